"""Jacobian layouts: numerator/denominator, Pascanu's matrix, and the 4th-order Jacobian of a batched matmul."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnngrad.activations import ACTIVATIONS, activation
from rnngrad.gradcheck import numerical_jacobian, numerical_vjp
from rnngrad.layout import (batch_diagonal_blocks, batched_matmul_jacobian, batched_matmul_jacobian_wrt_W,
                            layout_of, linear_map_jacobian, pascanu_step_matrix, to_denominator_layout,
                            vjp_from_jacobian)
from rnngrad.torch_ref.softmax import (t_batched_matmul_jacobian, t_batched_matmul_jacobian_wrt_W,
                                       t_linear_map_jacobian)
from strategies import assert_close, dims, float_arrays, seeds


def away_from_kinks(x):
    """Move entries off the relu kink at 0, where finite differences and derivatives disagree."""
    return np.where(np.abs(x) < 1e-3, 0.5, x)


@given(out=st.lists(dims(1, 3), max_size=2), inp=st.lists(dims(1, 3), max_size=2),
       batch=st.lists(dims(1, 3), max_size=1), seed=seeds)
def test_denominator_layout_swaps_output_and_input_axes(out, inp, batch, seed):
    out, inp, batch = tuple(out), tuple(inp), tuple(batch)
    J = np.random.default_rng(seed).standard_normal(batch + out + inp)
    D = to_denominator_layout(J, out_ndim=len(out), batch_ndim=len(batch))
    assert D.shape == batch + inp + out
    for idx in np.ndindex(*J.shape):
        b, o, i = idx[:len(batch)], idx[len(batch):len(batch) + len(out)], idx[len(batch) + len(out):]
        assert D[b + i + o] == J[idx]
    # applying it again with the roles swapped gives J back
    assert np.array_equal(to_denominator_layout(D, out_ndim=len(inp), batch_ndim=len(batch)), J)


def test_denominator_layout_of_a_matrix_is_its_transpose():
    J = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(to_denominator_layout(J), J.T)
    with pytest.raises(ValueError, match="out_ndim"):
        to_denominator_layout(np.zeros((2, 3, 4)))


@given(M=dims(1, 4), H=dims(1, 4), N=dims(1, 3), act=st.sampled_from(ACTIVATIONS), seed=seeds,
       batched=st.booleans())
def test_linear_map_jacobian_matches_torch_and_finite_differences(M, H, N, act, seed, batched):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((M, H))
    pre = away_from_kinks(rng.standard_normal((N, H) if batched else (H,)))
    J = linear_map_jacobian(W, pre, act)
    assert J.shape == ((N, M, H) if batched else (M, H))
    assert_close(J, t_linear_map_jacobian(W, pre, act), rtol=1e-12, atol=1e-15, name=f"{act} vs torch")
    for n, x in enumerate(pre.reshape(-1, H)):
        fd = numerical_jacobian(lambda v: W @ activation(act, v), x)
        assert_close(J.reshape(-1, M, H)[n], fd, rtol=1e-6, atol=1e-9, name=f"{act} vs FD")
    # the numerator layout scales columns: W diag(σ'); its transpose is the denominator layout
    assert layout_of(J, t_linear_map_jacobian(W, pre, act), batch_ndim=int(batched)) in ("numerator", "both")


@given(H=dims(2, 5), seed=seeds, act=st.sampled_from(["tanh", "sigmoid"]))
def test_pascanu_matrix_is_neither_layout_for_a_generic_W(H, seed, act):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((H, H))
    x = rng.standard_normal(H) * 2.0
    P = pascanu_step_matrix(W, x, act)
    J = numerical_jacobian(lambda v: W @ activation(act, v), x)  # true dx_t/dx_{t-1}, numerator layout
    sp = np.diag(linear_map_jacobian(np.eye(H), x, act))
    assert_close(P, W.T @ np.diag(sp), rtol=1e-14, atol=0, name="W^T diag(σ')")
    assert layout_of(P, J, rtol=1e-6, atol=1e-9) == "neither"
    assert layout_of(J, J) in ("numerator", "both")
    assert layout_of(to_denominator_layout(J), J) in ("denominator", "both")
    # the bound the paper uses holds for both matrices: ||.||_2 <= ||W||_2 max σ'
    bound = np.linalg.norm(W, 2) * sp.max()
    assert np.linalg.norm(P, 2) <= bound * (1 + 1e-12) and np.linalg.norm(J, 2) <= bound * (1 + 1e-6)


def test_pascanu_matrix_in_the_special_cases():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 3))
    x = np.array([0.2, -1.0, 2.5])
    S = A + A.T  # symmetric W: W^T diag = W diag, the numerator Jacobian
    assert layout_of(pascanu_step_matrix(S, x, "tanh"), linear_map_jacobian(S, x, "tanh")) == "numerator"
    # identity activation: W^T is the denominator layout of W
    assert layout_of(pascanu_step_matrix(A, x, "identity"), linear_map_jacobian(A, x, "identity")) == "denominator"
    # one hidden unit: everything is 1x1
    assert layout_of(pascanu_step_matrix([[2.0]], [0.3]), linear_map_jacobian([[2.0]], [0.3])) == "both"
    # batched states give one matrix per row
    P = pascanu_step_matrix(A, np.stack([x, -x, 0 * x]), "tanh")
    assert P.shape == (3, 3, 3) and np.array_equal(P[2], A.T)


def test_layout_of_rejects_nothing_but_reports_neither_for_wrong_shapes():
    J = np.arange(6.0).reshape(2, 3)
    assert layout_of(np.zeros((3, 3)), J) == "neither"
    assert layout_of(J.T, J) == "denominator"
    assert layout_of(J, J) == "numerator"
    assert layout_of(np.eye(3), np.eye(3)) == "both"


@given(N=dims(1, 3), H=dims(1, 3), K=dims(1, 3), seed=seeds)
def test_batched_matmul_jacobian_matches_torch_and_finite_differences(N, H, K, seed):
    rng = np.random.default_rng(seed)
    h, W = rng.standard_normal((N, H)), rng.standard_normal((H, K))
    J = batched_matmul_jacobian(h, W)
    assert J.shape == (N, K, N, H)
    assert_close(J, t_batched_matmul_jacobian(h, W), rtol=1e-14, atol=0, name="dU/dh vs torch")
    assert_close(J, numerical_jacobian(lambda x: x @ W, h), rtol=1e-7, atol=1e-9, name="dU/dh vs FD")
    expected = np.einsum("ip,qj->ijpq", np.eye(N), W)  # δ_ip W[q, j]
    assert np.array_equal(J, expected)
    blocks, block_diagonal = batch_diagonal_blocks(J)
    assert block_diagonal and blocks.shape == (N, K, H)
    assert all(np.array_equal(b, W.T) for b in blocks)


@given(N=dims(1, 3), H=dims(1, 3), K=dims(1, 3), seed=seeds)
def test_jacobian_wrt_W_matches_torch_and_finite_differences(N, H, K, seed):
    rng = np.random.default_rng(seed)
    h, W = rng.standard_normal((N, H)), rng.standard_normal((H, K))
    J = batched_matmul_jacobian_wrt_W(h, W)
    assert J.shape == (N, K, H, K)
    assert_close(J, t_batched_matmul_jacobian_wrt_W(h, W), rtol=1e-14, atol=0, name="dU/dW vs torch")
    assert_close(J, numerical_jacobian(lambda w: h @ w, W), rtol=1e-7, atol=1e-9, name="dU/dW vs FD")
    assert np.array_equal(J, np.einsum("ip,jr->ijpr", h, np.eye(K)))


@given(N=dims(1, 3), H=dims(1, 3), K=dims(1, 3), seed=seeds)
def test_vjp_of_the_4th_order_jacobians_gives_the_backward_pass(N, H, K, seed):
    rng = np.random.default_rng(seed)
    h, W, G = rng.standard_normal((N, H)), rng.standard_normal((H, K)), rng.standard_normal((N, K))
    dh = vjp_from_jacobian(batched_matmul_jacobian(h, W), G)
    dW = vjp_from_jacobian(batched_matmul_jacobian_wrt_W(h, W), G)
    assert_close(dh, G @ W.T, rtol=1e-12, atol=1e-14, name="dL/dh = G W^T")
    assert_close(dW, h.T @ G, rtol=1e-12, atol=1e-14, name="dL/dW = h^T G")
    assert_close(dh, numerical_vjp(lambda x: x @ W, h, G), rtol=1e-7, atol=1e-7, name="dL/dh vs FD")
    assert_close(dW, numerical_vjp(lambda w: h @ w, W, G), rtol=1e-7, atol=1e-7, name="dL/dW vs FD")


def test_block_check_notices_a_map_that_mixes_rows():
    rng = np.random.default_rng(0)
    A, W = rng.standard_normal((3, 3)), rng.standard_normal((2, 4))
    h = rng.standard_normal((3, 2))
    J = numerical_jacobian(lambda x: A @ x @ W, h)  # U = A h W couples the rows of the batch
    blocks, block_diagonal = batch_diagonal_blocks(J, atol=1e-6)
    assert not block_diagonal
    assert_close(blocks, np.stack([A[i, i] * W.T for i in range(3)]), rtol=1e-6, atol=1e-8, name="blocks")


@given(x=float_arrays((2, 3)), data=st.data())
def test_vjp_from_jacobian_is_a_contraction_over_the_output_axes(x, data):
    J = data.draw(float_arrays((2, 3, 4)))
    v = x
    assert_close(vjp_from_jacobian(J, v), np.einsum("ab,abc->c", v, J), rtol=1e-12, atol=1e-14, name="vjp")
    assert_close(vjp_from_jacobian(J, v[0, 0]), v[0, 0] * J, rtol=1e-15, atol=0, name="scalar output")
