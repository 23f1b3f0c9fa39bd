"""Nevergrad hyperparameter and architecture search over any autoglm node's search space"""
