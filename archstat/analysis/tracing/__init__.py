"""The engine's recording: dispatch mode and module hooks, tensor lifetimes, stand-ins, fast meta kernels."""
