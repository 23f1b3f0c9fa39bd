"""Node types of the multimodal plugin: light modules, heavy imports inside init/execute."""
