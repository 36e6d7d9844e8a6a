"""The GRU (rnngrad.gru) in torch's and Cho et al.'s form, and its torch weight conversions.

torch's form is checked against torch.nn.GRU (with converted weights); both forms against torch autograd on
the primitive-op GRU of rnngrad.torch_ref.gated_gru and against central differences.
"""
import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from rnngrad import DTypeError, NonFiniteError, RnngradInputError, ShapeError
from rnngrad.gated_torch_weights import gru_params_from_torch, gru_params_to_torch
from rnngrad.gradcheck import numerical_gradient
from rnngrad.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from rnngrad.torch_ref.gated_gru import gru_forward_tensor, t_gru_backward, t_gru_forward, t_gru_step_backward
from strategies import assert_close, dims, seeds

PARAMS = ("W_x", "W_h", "b", "b_hn")
ARGS = ("xs", "h0") + PARAMS
VARIANTS = ("torch", "cho")


def make_gru(seed, T, N, D, H, saturated=False):
    """One random problem; with ``saturated`` the biases are ±(8..25), so most gates sit near 0 or 1."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(3 * H) * 0.3
    if saturated:
        b = rng.choice([-1.0, 1.0], 3 * H) * rng.uniform(8.0, 25.0, 3 * H)
    return {
        "xs": rng.standard_normal((T, N, D)),
        "h0": rng.standard_normal((N, H)) * 0.5,
        "W_x": rng.standard_normal((D, 3 * H)) * 0.8 / np.sqrt(D),
        "W_h": rng.standard_normal((H, 3 * H)) * 0.8 / np.sqrt(H),
        "b": b,
        "b_hn": rng.standard_normal(H) * 0.5,
        "dhs": rng.standard_normal((T, N, H)),
        "dh_T": rng.standard_normal((N, H)),
    }


problems = st.builds(make_gru, seeds, dims(1, 4), dims(1, 3), dims(1, 3), dims(1, 3), st.booleans())
variants = st.sampled_from(VARIANTS)


def with_edge_cases(test):
    """``test`` also on N = T = D = H = 1 (plain and saturated) and on a larger saturated problem, both forms."""
    for case in (make_gru(0, 1, 1, 1, 1), make_gru(1, 1, 1, 1, 1, True), make_gru(2, 4, 3, 3, 3, True)):
        for variant in VARIANTS:
            test = example(p=case, variant=variant)(test)
    return test


def nn_gru(params, D, H):
    """A float64 torch.nn.GRU holding ``params`` (converted)."""
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in gru_params_to_torch(params).items()})
    return module


@given(p=problems)
@example(p=make_gru(0, 1, 1, 1, 1))
@example(p=make_gru(1, 3, 2, 2, 3, True))
def test_torch_form_matches_nn_gru_forward_and_autograd(p):
    args = {k: p[k] for k in ARGS}
    hs, gates = gru_forward(**args, variant="torch")
    D, H = p["W_x"].shape[0], p["h0"].shape[1]
    module = nn_gru({k: p[k] for k in PARAMS}, D, H)
    xs, h0 = (torch.tensor(p[k], requires_grad=True) for k in ("xs", "h0"))
    out, h_n = module(xs, h0[None])
    assert_close(hs, out.detach().numpy(), rtol=1e-12, atol=1e-14, name="hs vs nn.GRU")
    loss = (out * torch.from_numpy(p["dhs"])).sum() + (h_n[0] * torch.from_numpy(p["dh_T"])).sum()
    loss.backward()
    g = gru_backward(p["dhs"], p["xs"], p["h0"], hs, gates, p["W_x"], p["W_h"], p["b_hn"], p["dh_T"], "torch")
    assert sorted(g) == ["W_h", "W_x", "b", "b_hn", "h0", "xs"]
    bias_hh = module.bias_hh_l0.grad.numpy()
    expected = {"xs": xs.grad.numpy(), "h0": h0.grad.numpy(), "W_x": module.weight_ih_l0.grad.numpy().T,
                "W_h": module.weight_hh_l0.grad.numpy().T, "b": module.bias_ih_l0.grad.numpy(),
                "b_hn": bias_hh[2 * H:]}
    for name, ref in expected.items():
        assert_close(g[name], ref, rtol=1e-10, atol=1e-12, name=f"{name} vs nn.GRU")
    # the r and z parts of the two torch biases are summed into b: they receive the same gradient
    assert_close(bias_hh[:2 * H], g["b"][:2 * H], rtol=1e-10, atol=1e-12, name="bias_hh r, z")


@given(p=problems, variant=variants)
@with_edge_cases
def test_forward_and_backward_match_primitive_autograd_and_central_differences(p, variant):
    args = {k: p[k] for k in ARGS}
    hs, gates = gru_forward(**args, variant=variant)
    for mine, ref, name in zip((hs, gates), t_gru_forward(**args, variant=variant, device="cpu"), ("hs", "gates")):
        assert_close(mine, ref, rtol=1e-12, atol=1e-14, name=f"{name} vs primitive torch")
    g = gru_backward(p["dhs"], p["xs"], p["h0"], hs, gates, p["W_x"], p["W_h"], p["b_hn"], p["dh_T"], variant)
    ref = t_gru_backward(p["dhs"], **args, dh_T=p["dh_T"], variant=variant, device="cpu")
    assert sorted(g) == sorted(ref)
    for name in ARGS:
        assert g[name].shape == args[name].shape
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs primitive autograd")

        def loss(value, name=name):
            hs, _ = gru_forward(**dict(args, **{name: value}), variant=variant)
            return float((p["dhs"] * hs).sum() + (p["dh_T"] * hs[-1]).sum())

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems, variant=variants)
@with_edge_cases
def test_step_backward_matches_torch_and_central_differences(p, variant):
    x, h_prev, dh = p["xs"][0], p["h0"], p["dhs"][0]
    args = {"x": x, "h_prev": h_prev, "W_x": p["W_x"], "W_h": p["W_h"], "b": p["b"], "b_hn": p["b_hn"]}
    h, gates = gru_step_forward(**args, variant=variant)
    assert_close(h, gru_forward(x[None], h_prev, *(p[k] for k in PARAMS), variant=variant)[0][0], rtol=1e-14,
                 atol=1e-15, name="step vs sequence")
    g = gru_step_backward(dh, x, h_prev, gates, p["W_x"], p["W_h"], p["b_hn"], variant)
    ref = t_gru_step_backward(dh, **args, variant=variant, device="cpu")
    assert sorted(g) == sorted(ref) == ["W_h", "W_x", "b", "b_hn", "h_prev", "x"]
    for name in args:
        assert_close(g[name], ref[name], rtol=1e-10, atol=1e-12, name=f"{name} vs torch")

        def loss(value, name=name):
            return float((dh * gru_step_forward(**dict(args, **{name: value}), variant=variant)[0]).sum())

        assert_close(g[name], numerical_gradient(loss, args[name]), rtol=1e-6, atol=1e-8, name=f"{name} vs fd")


@given(p=problems, variant=variants)
def test_backward_is_the_chain_of_step_backwards(p, variant):
    xs, h0, W_x, W_h, b, b_hn = (p[k] for k in ARGS)
    hs, gates = gru_forward(xs, h0, W_x, W_h, b, b_hn, variant)
    g = gru_backward(p["dhs"], xs, h0, hs, gates, W_x, W_h, b_hn, p["dh_T"], variant)
    acc = {k: 0.0 for k in PARAMS}
    dxs = np.zeros_like(xs)
    dh = p["dh_T"]
    for t in reversed(range(xs.shape[0])):
        step = gru_step_backward(p["dhs"][t] + dh, xs[t], h0 if t == 0 else hs[t - 1], gates[t], W_x, W_h, b_hn,
                                 variant)
        acc = {k: acc[k] + step[k] for k in PARAMS}
        dxs[t], dh = step["x"], step["h_prev"]
    for k in PARAMS:
        assert_close(g[k], acc[k], rtol=1e-11, atol=1e-13, name=k)
    assert_close(g["xs"], dxs, rtol=1e-11, atol=1e-13, name="xs")
    assert_close(g["h0"], dh, rtol=1e-11, atol=1e-13, name="h0")


def test_the_two_forms_differ_only_where_the_reset_gate_meets_the_state():
    p = make_gru(3, 4, 2, 3, 5)
    params = [p[k] for k in PARAMS]
    a = gru_forward(p["xs"], p["h0"], *params, variant="torch")[0]
    c = gru_forward(p["xs"], p["h0"], *params, variant="cho")[0]
    assert not np.allclose(a, c)
    # from h0 = 0 with b_hn = 0 the first step is the same in both forms (r multiplies zero either way)
    zero = np.zeros_like(p["h0"])
    params[3] = np.zeros_like(p["b_hn"])
    assert np.array_equal(gru_step_forward(p["xs"][0], zero, *params, variant="torch")[0],
                          gru_step_forward(p["xs"][0], zero, *params, variant="cho")[0])
    # in Cho's form b_hn sits outside the gate: its gradient is that of b's n block
    hs, gates = gru_forward(p["xs"], p["h0"], *[p[k] for k in PARAMS], variant="cho")
    g = gru_backward(p["dhs"], p["xs"], p["h0"], hs, gates, p["W_x"], p["W_h"], p["b_hn"], variant="cho")
    assert_close(g["b_hn"], g["b"][10:], rtol=1e-12, atol=1e-14, name="b_hn")
    # the update gate closed (z = 1) keeps the state and passes the gradient through unchanged
    b = p["b"].copy()
    b[5:10] = 40.0
    for variant in VARIANTS:
        hs, gates = gru_forward(p["xs"], p["h0"], p["W_x"], p["W_h"], b, p["b_hn"], variant)
        g = gru_backward(np.zeros_like(hs), p["xs"], p["h0"], hs, gates, p["W_x"], p["W_h"], p["b_hn"], p["dh_T"],
                         variant)
        assert_close(hs[-1], p["h0"], rtol=1e-15, atol=0, name="h_T")
        assert_close(g["h0"], p["dh_T"], rtol=1e-14, atol=0, name="dh_0")


def test_tensor_building_block_keeps_the_inputs_device_and_dtype():
    p = make_gru(2, 3, 2, 3, 4)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        t = [torch.tensor(p[k], dtype=torch.float32, device=device) for k in ARGS]
        hs, gates = gru_forward_tensor(*t, variant="cho")
        assert hs.dtype == gates.dtype == torch.float32 and hs.device.type == device
        assert_close(hs.cpu().double().numpy(), gru_forward(*(p[k] for k in ARGS), variant="cho")[0], rtol=1e-5,
                     atol=1e-5, name=f"hs on {device}")


@given(seed=seeds, D=dims(1, 4), H=dims(1, 4))
def test_weight_conversions_round_trip(seed, D, H):
    torch.manual_seed(seed % 2**31)
    module = torch.nn.GRU(D, H, dtype=torch.float64)
    sd = module.state_dict()
    params = gru_params_from_torch(sd)
    assert {k: v.shape for k, v in params.items()} == {"W_x": (D, 3 * H), "W_h": (H, 3 * H), "b": (3 * H,),
                                                         "b_hn": (H,)}
    b_ih, b_hh = sd["bias_ih_l0"].numpy(), sd["bias_hh_l0"].numpy()
    assert np.array_equal(params["b"], np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]]))
    assert np.array_equal(params["b_hn"], b_hh[2 * H:])
    again = gru_params_from_torch(gru_params_to_torch(params))
    assert all(np.array_equal(again[k], params[k]) for k in params)
    rebuilt = nn_gru(params, D, H)
    xs = torch.randn(3, 2, D, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(module(xs)[0], rebuilt(xs)[0], rtol=1e-13, atol=1e-15)
        assert_close(gru_forward(xs.numpy(), np.zeros((2, H)), **params)[0], module(xs)[0].numpy(), rtol=1e-12,
                     atol=1e-14, name="rnngrad on converted weights")


def test_weight_conversion_refuses_other_modules_by_name():
    with pytest.raises(RnngradInputError, match=r"^state_dict: .*_reverse"):
        gru_params_from_torch(torch.nn.GRU(3, 2, bidirectional=True).state_dict())
    with pytest.raises(ShapeError, match=r"^state_dict\['weight_ih_l0'\]: .*multiple of 3"):
        gru_params_from_torch(dict(torch.nn.GRU(3, 2).state_dict(), weight_ih_l0=torch.ones(8, 3)))
    with pytest.raises(RnngradInputError, match=r"^params: expected keys W_x, W_h, b, b_hn, missing b_hn"):
        gru_params_to_torch({"W_x": np.ones((3, 6)), "W_h": np.ones((2, 6)), "b": np.ones(6)})
    with pytest.raises(ShapeError, match=r"^params\['b_hn'\]: expected shape \(H,\) with H=2"):
        gru_params_to_torch({"W_x": np.ones((3, 6)), "W_h": np.ones((2, 6)), "b": np.ones(6), "b_hn": np.ones(3)})


def test_batch_major_xs_is_blamed_on_xs():
    p = make_gru(0, 5, 2, 3, 4)            # T=5, N=2
    batch_major = p["xs"].transpose(1, 0, 2)
    params = [p[k] for k in PARAMS]
    hs, gates = gru_forward(p["xs"], p["h0"], *params)
    for call in (lambda: gru_forward(batch_major, p["h0"], *params, variant="cho"),
                 lambda: gru_backward(p["dhs"], batch_major, p["h0"], hs, gates, p["W_x"], p["W_h"], p["b_hn"]),
                 lambda: t_gru_forward(batch_major, p["h0"], *params, device="cpu"),
                 lambda: t_gru_backward(p["dhs"], batch_major, p["h0"], *params, device="cpu")):
        with pytest.raises(ShapeError, match=r"^xs: expected a time-major sequence \(T, N, D\).*batch-major"):
            call()


def test_bad_inputs_name_the_argument():
    p = make_gru(0, 3, 2, 3, 4)
    args = {k: p[k] for k in ARGS}
    with pytest.raises(RnngradInputError, match=r"^variant: expected one of 'torch', 'cho', got 'keras'"):
        gru_forward(**args, variant="keras")
    with pytest.raises(ShapeError, match=r"^W_h: expected shape \(H, 3H\) with H=4 \(from h0\), 3H=12 \(from h0\)"):
        gru_forward(**dict(args, W_h=np.ones((4, 16))))
    with pytest.raises(ShapeError, match=r"^b_hn: "):
        gru_forward(**dict(args, b_hn=np.ones(12)))
    with pytest.raises(NonFiniteError, match=r"^b: expected finite"):
        gru_forward(**dict(args, b=np.full(12, np.nan)))
    with pytest.raises(DTypeError, match=r"^W_x: "):
        t_gru_forward(**dict(args, W_x=np.ones((3, 12), dtype=np.int32)), device="cpu")
    hs, gates = gru_forward(**args)
    with pytest.raises(ShapeError, match=r"^gates: expected shape \(T, N, 3H\)"):
        gru_backward(p["dhs"], p["xs"], p["h0"], hs, gates[..., :8], p["W_x"], p["W_h"], p["b_hn"])
