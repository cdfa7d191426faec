"""Use cases built on analyses: model comparison, the cross-check with other tools, lecture studies."""
