"""The baseline for replay on numpy: the lesson's arithmetic as a bare float32 loop.

The same steps as the document's gradDescent: residual, loss, gradient Xᵀr/m, step, update.
Prints the loop's own time and the final weights as JSON.
"""
import json
import sys
import time

import numpy as np


def main(iterations: int) -> None:
    X = np.array([[1, 1], [3, 1]], dtype=np.float32)
    y = np.array([2, 4], dtype=np.float32)
    Xt = np.ascontiguousarray(X.T)
    m = np.float32(len(y))
    lr = np.float32(0.01)
    w = np.zeros(2, dtype=np.float32)
    start = time.perf_counter()
    for _ in range(iterations):
        r = X @ w - y                 # residual
        loss = (r @ r) / (2 * m)      # half_mse
        grad = Xt @ r / m             # step 1
        step = lr * grad              # step 2
        w = w - step                  # step 3
    loop = time.perf_counter() - start
    print(json.dumps({"loop_s": loop, "weights": w.tolist(), "loss": float(loss)}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
