"""Multiplies the new step Jacobian on the right: J_{k+1} ... J_T."""
import numpy as np

FUNCTION, DIAGNOSIS = "jacobian_products", "reversed_order"


def jacobian_products(step_jacobians):
    J = step_jacobians
    P = np.empty_like(J)
    P[-1] = J[-1]
    for k in range(len(J) - 2, -1, -1):
        P[k] = J[k] @ P[k + 1]
    return P
