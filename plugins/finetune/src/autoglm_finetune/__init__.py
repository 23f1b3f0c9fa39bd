"""autoglm-finetune: probes, encoder fine-tuning, contrastive (SetFit-like) and LoRA nodes."""
