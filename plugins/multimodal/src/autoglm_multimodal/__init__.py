"""autoglm-multimodal: multimodal preprocessing and fusion nodes for autoglm."""
