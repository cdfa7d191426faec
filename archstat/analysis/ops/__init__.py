"""Op tables: one registration per ATen op for its cost and its receptive-field rule."""
