"""gdtutor: step through backpropagation and gradient descent, one iteration at a time."""

__version__ = "0.1.0"
