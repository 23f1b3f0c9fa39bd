"""Text task nodes for autoglm: task-type recognition, retrieval, splitting, prompts, generation"""
