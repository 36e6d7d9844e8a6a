"""The LSTM (rnngrad.lstm), its state Jacobians (rnngrad.gated_jacobians) and the torch weight conversions.

Forward passes and gradients are checked against torch.nn.LSTM (with converted weights), against torch
autograd on the primitive-op LSTM of rnngrad.torch_ref.gated_lstm, and against central differences.
"""
import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from rnngrad import DTypeError, NonFiniteError, RnngradInputError, ShapeError
from rnngrad.gated_jacobians import (cell_path_vs_rnn_norms, lstm_cell_path_products, lstm_state_jacobian,
                                     lstm_state_jacobians)
from rnngrad.gated_torch_weights import lstm_params_from_torch, lstm_params_to_torch
from rnngrad.gradcheck import numerical_gradient
from rnngrad.hidden_jacobians import jacobian_products, rnn_jacobian_products, singular_values_over_time
from rnngrad.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from rnngrad.rnn import rnn_forward
from rnngrad.torch_ref.gated_lstm import (lstm_forward_tensor, t_lstm_backward, t_lstm_forward,
                                          t_lstm_state_jacobian, t_lstm_step_backward)
from strategies import assert_close, dims, seeds

PARAMS = ("W_x", "W_h", "b")
ARGS = ("xs", "h0", "c0") + PARAMS


def make_lstm(seed, T, N, D, H, saturated=False):
    """One random problem; with ``saturated`` the biases are ±(8..25), so most gates sit near 0 or 1."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(4 * H) * 0.3
    if saturated:
        b = rng.choice([-1.0, 1.0], 4 * H) * rng.uniform(8.0, 25.0, 4 * H)
    return {
        "xs": rng.standard_normal((T, N, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "c0": rng.standard_normal((N, H)),
        "W_x": rng.standard_normal((D, 4 * H)) * 0.8 / np.sqrt(D),
        "W_h": rng.standard_normal((H, 4 * H)) * 0.8 / np.sqrt(H),
        "b": b,
        "dhs": rng.standard_normal((T, N, H)),
        "dh_T": rng.standard_normal((N, H)),
        "dc_T": rng.standard_normal((N, H)),
    }


problems = st.builds(make_lstm, seeds, dims(1, 4), dims(1, 3), dims(1, 3), dims(1, 3), st.booleans())


def with_edge_cases(test):
    """``test`` also on N = T = D = H = 1 (plain and saturated) and on a larger saturated problem."""
    for case in (make_lstm(0, 1, 1, 1, 1), make_lstm(1, 1, 1, 1, 1, True), make_lstm(2, 4, 3, 3, 3, True)):
        test = example(p=case)(test)
    return test


def nn_lstm(params, D, H):
    """A float64 torch.nn.LSTM holding ``params`` (converted)."""
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in lstm_params_to_torch(params).items()})
    return module


def total_loss(p, hs, cs):
    """The scalar whose gradient every backward test takes: sum_t <dhs[t], h_t> + <dh_T, h_T> + <dc_T, c_T>."""
    return float((p["dhs"] * hs).sum() + (p["dh_T"] * hs[-1]).sum() + (p["dc_T"] * cs[-1]).sum())


# ----------------------------------------------------------------------------- forward

@given(p=problems)
@with_edge_cases
def test_forward_matches_nn_lstm_and_the_primitive_torch_lstm(p):
    args = {k: p[k] for k in ARGS}
    hs, cs, gates = lstm_forward(**args)
    T, N, D = p["xs"].shape
    H = p["h0"].shape[1]
    module = nn_lstm({k: p[k] for k in PARAMS}, D, H)
    with torch.no_grad():
        out, (h_n, c_n) = module(torch.from_numpy(p["xs"]), (torch.from_numpy(p["h0"])[None],
                                                              torch.from_numpy(p["c0"])[None]))
    assert_close(hs, out.numpy(), rtol=1e-12, atol=1e-14, name="hs vs nn.LSTM")
    assert_close(cs[-1], c_n[0].numpy(), rtol=1e-12, atol=1e-14, name="c_T vs nn.LSTM")
    for mine, ref, name in zip((hs, cs, gates), t_lstm_forward(**args, device="cpu"), ("hs", "cs", "gates")):
        assert_close(mine, ref, rtol=1e-12, atol=1e-14, name=f"{name} vs primitive torch")
    # the step function is the sequence function's step
    h1, c1, g1 = lstm_step_forward(p["xs"][0], p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"])
    assert_close(hs[0], h1, rtol=1e-14, atol=1e-15, name="step h")
    assert_close(gates[0], g1, rtol=1e-14, atol=1e-15, name="step gates")


# ----------------------------------------------------------------------------- backward

@given(p=problems)
@with_edge_cases
def test_backward_matches_nn_lstm_autograd(p):
    args = {k: p[k] for k in ARGS}
    hs, cs, gates = lstm_forward(**args)
    g = lstm_backward(p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"], p["dh_T"], p["dc_T"])
    assert sorted(g) == ["W_h", "W_x", "b", "c0", "h0", "xs"]
    D, H = p["W_x"].shape[0], p["h0"].shape[1]
    module = nn_lstm({k: p[k] for k in PARAMS}, D, H)
    xs, h0, c0 = (torch.tensor(p[k], requires_grad=True) for k in ("xs", "h0", "c0"))
    out, (h_n, c_n) = module(xs, (h0[None], c0[None]))
    loss = (out * torch.from_numpy(p["dhs"])).sum() + (h_n[0] * torch.from_numpy(p["dh_T"])).sum() \
        + (c_n[0] * torch.from_numpy(p["dc_T"])).sum()
    loss.backward()
    expected = {"xs": xs.grad, "h0": h0.grad, "c0": c0.grad, "W_x": module.weight_ih_l0.grad.T,
                "W_h": module.weight_hh_l0.grad.T, "b": module.bias_ih_l0.grad}
    for name, ref in expected.items():
        assert_close(g[name], ref.numpy(), rtol=1e-10, atol=1e-12, name=f"{name} vs nn.LSTM")
    # torch adds both biases, so both receive the same gradient
    assert_close(module.bias_hh_l0.grad.numpy(), g["b"], rtol=1e-10, atol=1e-12, name="bias_hh")


@given(p=problems)
@with_edge_cases
def test_backward_matches_primitive_autograd_and_central_differences(p):
    args = {k: p[k] for k in ARGS}
    hs, cs, gates = lstm_forward(**args)
    g = lstm_backward(p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"], p["dh_T"], p["dc_T"])
    ref = t_lstm_backward(p["dhs"], **args, dh_T=p["dh_T"], dc_T=p["dc_T"], device="cpu")
    assert sorted(ref) == sorted(g)
    for name in ARGS:
        assert g[name].shape == args[name].shape
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs primitive autograd")

        def loss(value, name=name):
            hs, cs, _ = lstm_forward(**dict(args, **{name: value}))
            return total_loss(p, hs, cs)

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems)
@with_edge_cases
def test_step_backward_matches_torch_and_central_differences(p):
    x, h_prev, c_prev, dh, dc = p["xs"][0], p["h0"], p["c0"], p["dhs"][0], p["dc_T"]
    W_x, W_h, b = p["W_x"], p["W_h"], p["b"]
    h, c, gates = lstm_step_forward(x, h_prev, c_prev, W_x, W_h, b)
    g = lstm_step_backward(dh, dc, x, h_prev, c_prev, c, gates, W_x, W_h)
    ref = t_lstm_step_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b, device="cpu")
    assert sorted(g) == sorted(ref) == ["W_h", "W_x", "b", "c_prev", "h_prev", "x"]
    args = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "W_x": W_x, "W_h": W_h, "b": b}
    for name in args:
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs torch")

        def loss(value, name=name):
            h, c, _ = lstm_step_forward(**dict(args, **{name: value}))
            return float((dh * h).sum() + (dc * c).sum())

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems)
@with_edge_cases
def test_backward_is_the_chain_of_step_backwards(p):
    xs, h0, c0, W_x, W_h, b = (p[k] for k in ARGS)
    hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
    g = lstm_backward(p["dhs"], xs, h0, c0, hs, cs, gates, W_x, W_h, p["dh_T"], p["dc_T"])
    acc = {k: 0.0 for k in PARAMS}
    dxs = np.zeros_like(xs)
    dh, dc = p["dh_T"], p["dc_T"]
    for t in reversed(range(xs.shape[0])):
        h_prev, c_prev = (h0, c0) if t == 0 else (hs[t - 1], cs[t - 1])
        step = lstm_step_backward(p["dhs"][t] + dh, dc, xs[t], h_prev, c_prev, cs[t], gates[t], W_x, W_h)
        acc = {k: acc[k] + step[k] for k in PARAMS}
        dxs[t], dh, dc = step["x"], step["h_prev"], step["c_prev"]
    for k in PARAMS:
        assert_close(g[k], acc[k], rtol=1e-12, atol=1e-13, name=k)
    assert_close(g["xs"], dxs, rtol=1e-12, atol=1e-13, name="xs")
    assert_close(g["h0"], dh, rtol=1e-12, atol=1e-13, name="h0")
    assert_close(g["c0"], dc, rtol=1e-12, atol=1e-13, name="c0")


def test_an_open_forget_gate_carries_the_cell_gradient_unchanged():
    # forget gates saturated open, input and output gates shut: c_t = c_{t-1} and dL/dc_0 = dL/dc_T
    T, N, D, H = 30, 2, 3, 4
    p = make_lstm(3, T, N, D, H)
    b = np.concatenate([np.full(H, -40.0), np.full(H, 40.0), np.zeros(H), np.full(H, -40.0)])
    hs, cs, gates = lstm_forward(p["xs"], p["h0"], p["c0"], p["W_x"] * 0, p["W_h"] * 0, b)
    g = lstm_backward(np.zeros((T, N, H)), p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"] * 0, p["W_h"] * 0,
                      dc_T=p["dc_T"])
    assert_close(cs[-1], p["c0"], rtol=1e-14, atol=0, name="c_T")
    assert_close(g["c0"], p["dc_T"], rtol=1e-14, atol=0, name="dc_0")
    assert np.abs(g["b"]).max() < 1e-12


def test_backward_without_dh_T_and_dc_T_is_with_zeros_and_empty_sequence():
    p = make_lstm(1, 3, 2, 3, 4)
    hs, cs, gates = lstm_forward(*(p[k] for k in ARGS))
    base = (p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"])
    a, z = lstm_backward(*base), lstm_backward(*base, np.zeros((2, 4)), np.zeros((2, 4)))
    assert all(np.array_equal(a[k], z[k]) for k in a)
    # changing only dc_T changes the gradient (the argument is used)
    assert not np.allclose(lstm_backward(*base, dc_T=p["dc_T"])["c0"], a["c0"])
    empty = lstm_backward(np.zeros((0, 2, 4)), np.zeros((0, 2, 3)), p["h0"], p["c0"], np.zeros((0, 2, 4)),
                          np.zeros((0, 2, 4)), np.zeros((0, 2, 16)), p["W_x"], p["W_h"], p["dh_T"], p["dc_T"])
    assert np.array_equal(empty["h0"], p["dh_T"]) and np.array_equal(empty["c0"], p["dc_T"])
    assert not empty["W_h"].any() and empty["xs"].shape == (0, 2, 3)


def test_tensor_building_block_keeps_the_inputs_device_and_dtype():
    p = make_lstm(2, 3, 2, 3, 4)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for dtype in (torch.float32, torch.float64):
            t = [torch.tensor(p[k], dtype=dtype, device=device) for k in ARGS]
            hs, cs, gates = lstm_forward_tensor(*t)
            assert hs.dtype == cs.dtype == gates.dtype == dtype and hs.device.type == device
            tol = 1e-5 if dtype == torch.float32 else 1e-12
            assert_close(hs.cpu().double().numpy(), lstm_forward(*(p[k] for k in ARGS))[0], rtol=tol, atol=tol,
                         name=f"hs on {device} {dtype}")


# ----------------------------------------------------------------------------- state Jacobians

@given(p=problems)
@with_edge_cases
def test_state_jacobian_matches_torch_func(p):
    x, h_prev, c_prev = p["xs"][0], p["h0"], p["c0"]
    _, c, gates = lstm_step_forward(x, h_prev, c_prev, p["W_x"], p["W_h"], p["b"])
    J = lstm_state_jacobian(c_prev, c, gates, p["W_h"])
    ref = t_lstm_state_jacobian(x, h_prev, c_prev, p["W_x"], p["W_h"], p["b"], device="cpu")
    assert J.shape == ref.shape == (x.shape[0], 2 * h_prev.shape[1], 2 * h_prev.shape[1])
    assert_close(J, ref, rtol=1e-10, atol=1e-13, name="state Jacobian")


@given(p=problems)
@with_edge_cases
def test_state_jacobian_products_match_jacrev_of_the_whole_sequence(p):
    xs, h0, c0, W_x, W_h, b = (p[k] for k in ARGS)
    H = h0.shape[1]
    hs, cs, gates = lstm_forward(xs, h0, c0, W_x, W_h, b)
    J = lstm_state_jacobians(c0, cs, gates, W_h)
    for t in range(xs.shape[0]):      # each step Jacobian is the one-step function's
        c_prev = c0 if t == 0 else cs[t - 1]
        assert_close(J[t], lstm_state_jacobian(c_prev, cs[t], gates[t], W_h), rtol=1e-14, atol=0, name=f"J[{t}]")
    P = jacobian_products(J)
    w = [torch.from_numpy(a) for a in (W_x, W_h, b)]

    def last_state(s, x_row):         # (2H,) -> (2H,): s_0 = [h_0, c_0] of one batch row to s_T
        hs_t, cs_t, _ = lstm_forward_tensor(x_row[:, None, :], s[None, :H], s[None, H:], *w)
        return torch.cat([hs_t[-1, 0], cs_t[-1, 0]])

    for n in range(xs.shape[1]):
        s0 = torch.from_numpy(np.concatenate([h0[n], c0[n]]))
        ref = torch.func.jacrev(last_state)(s0, torch.from_numpy(xs[:, n])).numpy()
        assert_close(P[0, n], ref, rtol=1e-9, atol=1e-12, name=f"d s_T / d s_0, row {n}")
    S = singular_values_over_time(J)
    assert_close(S[-1], np.linalg.svd(P[0], compute_uv=False), rtol=1e-9, atol=1e-12, name="singular values")


@given(seed=seeds, T=dims(1, 6), N=dims(1, 3), H=dims(1, 3))
def test_cell_path_is_the_whole_cell_jacobian_when_W_h_is_zero(seed, T, N, H):
    p = make_lstm(seed, T, N, 2, H)
    W_h = np.zeros((H, 4 * H))
    hs, cs, gates = lstm_forward(p["xs"], p["h0"], p["c0"], p["W_x"], W_h, p["b"])
    P = jacobian_products(lstm_state_jacobians(p["c0"], cs, gates, W_h))
    cell = lstm_cell_path_products(gates)
    f = gates[..., H:2 * H]
    for k in range(T):
        assert_close(cell[k], np.prod(f[k:], axis=0), rtol=1e-13, atol=0, name=f"f product {k}")
        assert_close(P[k][:, H:, H:], np.eye(H) * cell[k][:, None, :], rtol=1e-12, atol=1e-300,
                     name=f"dc_T/dc_{k}")
    # with W_h != 0 the full d c_T / d c_k also has paths through h: it differs from the cell path alone
    hs, cs, gates = lstm_forward(*(p[k] for k in ARGS))
    P = jacobian_products(lstm_state_jacobians(p["c0"], cs, gates, p["W_h"]))
    if T > 1:
        assert not np.allclose(P[0][:, H:, H:], np.eye(H) * lstm_cell_path_products(gates)[0][:, None, :])


def test_cell_path_against_rnn_norms():
    rng = np.random.default_rng(0)
    T, N, H = 25, 3, 4
    p = make_lstm(4, T, N, 3, H)
    p["b"][H:2 * H] = 3.0             # forget gates near 0.95
    hs, cs, gates = lstm_forward(*(p[k] for k in ARGS))
    W_h = rng.standard_normal((H, H)) * 0.5
    rnn_hs = rnn_forward(rng.standard_normal((T, N, 3)), np.zeros((N, H)), rng.standard_normal((3, H)), W_h,
                         np.zeros(H))
    out = cell_path_vs_rnn_norms(gates, rnn_hs, W_h)
    assert out["distance"].tolist() == list(range(1, T + 1)) and out["distance"].dtype == np.int64
    cell = lstm_cell_path_products(gates)
    rnn = rnn_jacobian_products(rnn_hs, W_h)
    for j in range(T):
        k = T - 1 - j
        assert_close(out["lstm_cell"][j], np.abs(cell[k]).max(axis=-1), rtol=1e-14, atol=0, name="cell norm")
        assert_close(out["rnn"][j], np.linalg.norm(rnn[k], ord=2, axis=(-2, -1)), rtol=1e-12, atol=0, name="rnn")
    # the cell path decays like 0.95^distance; the contracting RNN much faster
    assert np.all(np.diff(out["lstm_cell"], axis=0) <= 0)
    assert out["lstm_cell"][-1].min() > 0.1 and out["rnn"][-1].max() < 1e-3


# ----------------------------------------------------------------------------- weight conversions

@given(seed=seeds, D=dims(1, 4), H=dims(1, 4))
def test_weight_conversions_round_trip(seed, D, H):
    torch.manual_seed(seed % 2**31)
    module = torch.nn.LSTM(D, H, dtype=torch.float64)
    params = lstm_params_from_torch(module.state_dict())
    assert {k: v.shape for k, v in params.items()} == {"W_x": (D, 4 * H), "W_h": (H, 4 * H), "b": (4 * H,)}
    assert_close(params["b"], (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy(), rtol=0, atol=0, name="b")
    # rnngrad -> torch -> rnngrad is exact; torch -> rnngrad -> torch keeps the function (the bias sum)
    again = lstm_params_from_torch(lstm_params_to_torch(params))
    assert all(np.array_equal(again[k], params[k]) for k in params)
    rebuilt = nn_lstm(params, D, H)
    xs = torch.randn(3, 2, D, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(module(xs)[0], rebuilt(xs)[0], rtol=1e-13, atol=1e-15)
    sd = lstm_params_to_torch(params)
    assert np.array_equal(sd["weight_ih_l0"], params["W_x"].T) and not sd["bias_hh_l0"].any()


def test_weight_conversion_accepts_tensors_and_bias_free_modules_and_refuses_others():
    module = torch.nn.LSTM(3, 2, dtype=torch.float32)       # float32 parameters that require grad
    params = lstm_params_from_torch(dict(module.named_parameters()))
    assert params["W_x"].dtype == np.float64 and params["W_x"].shape == (3, 8)
    bias_free = lstm_params_from_torch(torch.nn.LSTM(3, 2, bias=False).state_dict())
    assert not bias_free["b"].any() and bias_free["b"].shape == (8,)
    with pytest.raises(RnngradInputError, match=r"^state_dict: .*weight_ih_l1"):
        lstm_params_from_torch(torch.nn.LSTM(3, 2, num_layers=2).state_dict())
    with pytest.raises(RnngradInputError, match=r"^state_dict: .*missing bias_hh_l0"):
        sd = module.state_dict()
        del sd["bias_hh_l0"]
        lstm_params_from_torch(sd)
    with pytest.raises(DTypeError, match=r"^state_dict\['weight_hh_l0'\]: expected a floating-point"):
        lstm_params_from_torch(dict(module.state_dict(), weight_hh_l0=torch.ones(8, 2, dtype=torch.int64)))
    with pytest.raises(ShapeError, match=r"^state_dict\['weight_ih_l0'\]: .*multiple of 4"):
        lstm_params_from_torch(dict(module.state_dict(), weight_ih_l0=torch.ones(7, 3)))
    with pytest.raises(ShapeError, match=r"^state_dict\['weight_hh_l0'\]: expected shape \(4H, H\) with 4H=8 .*H=2"):
        lstm_params_from_torch(dict(module.state_dict(), weight_hh_l0=torch.ones(8, 3)))


# ----------------------------------------------------------------------------- bad input

def test_batch_major_xs_is_blamed_on_xs():
    p = make_lstm(0, 5, 2, 3, 4)            # T=5, N=2
    batch_major = p["xs"].transpose(1, 0, 2)
    hs, cs, gates = lstm_forward(*(p[k] for k in ARGS))
    calls = [
        lambda: lstm_forward(batch_major, p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"]),
        lambda: lstm_backward(p["dhs"], batch_major, p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"]),
        lambda: lstm_step_forward(p["xs"][0].T, p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"]),
        lambda: t_lstm_forward(batch_major, p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"], device="cpu"),
        lambda: t_lstm_backward(p["dhs"], batch_major, p["h0"], p["c0"], p["W_x"], p["W_h"], p["b"], device="cpu"),
    ]
    for i, call in enumerate(calls[:2] + calls[3:]):
        with pytest.raises(ShapeError, match=r"^xs: expected a time-major sequence \(T, N, D\).*batch-major"):
            call()
    with pytest.raises(ShapeError, match=r"^h_prev: "):   # one step has no time axis to confuse
        calls[2]()


def test_bad_inputs_name_the_argument():
    p = make_lstm(0, 3, 2, 3, 4)
    args = {k: p[k] for k in ARGS}
    with pytest.raises(ShapeError, match=r"^W_x: expected shape \(D, 4H\) with D=3 \(from xs\), 4H=16 \(from h0\)"):
        lstm_forward(**dict(args, W_x=np.ones((3, 17))))
    with pytest.raises(ShapeError, match=r"^W_h: expected shape \(H, 4H\)"):
        lstm_forward(**dict(args, W_h=np.ones((4, 12))))
    with pytest.raises(ShapeError, match=r"^b: "):
        lstm_forward(**dict(args, b=np.ones(4)))
    with pytest.raises(NonFiniteError, match=r"^c0: expected finite"):
        lstm_forward(**dict(args, c0=np.full((2, 4), np.nan)))
    with pytest.raises(DTypeError, match=r"^W_h: expected a floating-point array"):
        lstm_forward(**dict(args, W_h=np.ones((4, 16), dtype=int)))
    with pytest.raises(ShapeError, match=r"^c0: expected shape \(N, H\) with N=2 \(from xs\), H=4 \(from h0\)"):
        lstm_forward(**dict(args, c0=np.ones((2, 5))))
    hs, cs, gates = lstm_forward(**args)
    with pytest.raises(ShapeError, match=r"^gates: expected shape \(T, N, 4H\)"):
        lstm_backward(p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates[..., :12], p["W_x"], p["W_h"])
    with pytest.raises(NonFiniteError, match=r"^dc_T: "):
        lstm_backward(p["dhs"], p["xs"], p["h0"], p["c0"], hs, cs, gates, p["W_x"], p["W_h"],
                      dc_T=np.full((2, 4), np.inf))
    with pytest.raises(DTypeError, match=r"^h0: "):
        t_lstm_backward(p["dhs"], **dict(args, h0=torch.ones(2, 4, dtype=torch.int32)), device="cpu")
