"""DGL graph neural networks for autoglm: graph loaders, profiler, search space, trainer"""
