"""Data-parallel (DDP) mini-batch training with neighbour sampling, for graphs too big for
full-batch training: ``config`` (light: the node's settings), ``training`` (torch, DGL: the
model, the batches, the gradient-compression hook with its byte counter, the launcher)."""
