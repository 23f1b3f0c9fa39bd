"""transformers model adapters (GLM-4, Qwen2) and OpenAI-compatible servers for autoglm"""
