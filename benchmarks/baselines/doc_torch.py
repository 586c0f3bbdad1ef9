"""The baseline for replay on torch: the document's own gradDescent loop.

    grad = torch.mm(X.t(), (torch.mm(X, weights) - y)) / 2
    weights = weights - eps * grad

Its gradient is the formula, not autograd. As written, eps and the weights carry
requires_grad=True, so every iteration also extends one autograd graph through all the
iterations before it; `nograd` runs the same arithmetic without that graph (the faster loop,
and the one the ratio is taken against); `verbatim` runs the code exactly as printed.
Prints the loop's own time and the final weights as JSON.
"""
import json
import sys
import time

import torch


def grad_descent(X, y, eps, weights, iterations):
    for _ in range(iterations):
        grad = torch.mm(X.t(), (torch.mm(X, weights) - y)) / 2
        weights = weights - eps * grad
    return weights


def main(iterations: int, mode: str) -> None:
    X = torch.tensor([[1.0, 1.0], [3.0, 1.0]])
    y = torch.tensor([[2.0], [4.0]])
    verbatim = mode == "verbatim"
    eps = torch.tensor(0.01, requires_grad=verbatim)
    weights = torch.zeros(2, 1, requires_grad=verbatim)
    start = time.perf_counter()
    if verbatim:
        weights = grad_descent(X, y, eps, weights, iterations)
    else:
        with torch.no_grad():
            weights = grad_descent(X, y, eps, weights, iterations)
    loop = time.perf_counter() - start
    print(json.dumps({"loop_s": loop, "weights": weights.detach().reshape(-1).tolist()}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "nograd")
