"""The baseline for replay on torch: the document's gradDescent, with the loss differentiated by
torch's autograd every iteration, as a torch user writes it.

    python benchmarks/baselines/doc_torch.py ITERATIONS

The loss is the lesson's, L(w) = sum((Xw - y)**2) / 2m; `loss.backward()` gives its gradient,
which the document writes out as Xᵀ(Xw - y)/2 (m = 2); the step is taken under `torch.no_grad()`.
Prints the loop's own time, the final weights and the last loss as JSON.
"""
import json
import sys
import time

import torch


def main(iterations: int) -> None:
    X = torch.tensor([[1.0, 1.0], [3.0, 1.0]])
    y = torch.tensor([[2.0], [4.0]])
    m = X.shape[0]
    eps = torch.tensor(0.01)
    weights = torch.zeros(2, 1, requires_grad=True)
    start = time.perf_counter()
    for _ in range(iterations):
        loss = torch.sum((torch.mm(X, weights) - y) ** 2) / (2 * m)
        loss.backward()
        with torch.no_grad():
            weights -= eps * weights.grad
        weights.grad = None
    loop = time.perf_counter() - start
    print(json.dumps({"loop_s": loop, "weights": weights.detach().reshape(-1).tolist(),
                      "loss": loss.item()}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
