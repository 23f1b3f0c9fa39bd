"""Node types of the gnn plugin. These modules import only pydantic and autoglm at module
level; torch and DGL are imported in ``init`` so that listing plugins stays cheap."""
