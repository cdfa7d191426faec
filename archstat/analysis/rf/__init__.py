"""Receptive fields: the closed form, its growth through a model, the stack calculator, the gradient probe."""
