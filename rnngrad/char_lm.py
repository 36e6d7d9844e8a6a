"""A character-level language model: a tanh RNN on one-hot characters with a softmax output.

For inputs ``i_t`` and targets ``k_t`` (int (T, N) in [0, V)) the model reads
``x_t = onehot(i_t)`` (N, V), runs ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)`` and scores
``z_t = h_t W_y + b_y`` (N, V). The loss is the cross-entropy summed over time and
averaged over the batch:

    L = (1/N) sum_{t=1..T} sum_{n=1..N} -log softmax(z_{t,n})[k_{t,n}].

Summing over time makes the loss of a chunk of text grow with its length (a chunk of
25 characters carries 25 prediction losses), which is what training on consecutive
chunks wants; dividing by N keeps the scale independent of the batch size.

The gradient chains three pieces that live elsewhere in the package, each written once:
:func:`rnngrad.cross_entropy_grad` for ``dL/dz``, the output layer
(``dL/dW_y = sum_t h_t^T dz_t``, ``dL/dh_t`` direct ``= dz_t W_y^T``) here, and
back-propagation through time from :mod:`rnngrad.rnn`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import (Dims, DTypeError, RnngradInputError, _as_array, check_choice, generator, positive_int,
                        positive_number)
from .cross_entropy import cross_entropy, cross_entropy_grad
from .optim import adagrad_update, clip_elementwise, clip_global_norm
from .rnn import _bptt_sweep, _param_grads, init_rnn_params, rnn_forward, rnn_step_forward
from .softmax import softmax

__all__ = ["PARAM_KEYS", "one_hot", "char_lm_loss", "char_lm_grad", "train_char_lm", "sample", "TrainResult"]

#: the parameter names of the character model, in a fixed order
PARAM_KEYS = ("W_x", "W_h", "b", "W_y", "b_y")

_PARAM_SHAPES = {"W_x": ("V", "H"), "W_h": ("H", "H"), "b": ("H",), "W_y": ("H", "V"), "b_y": ("V",)}


def one_hot(indices, V) -> np.ndarray:
    """The one-hot encoding ``e[..., v] = 1 if indices[...] == v else 0``.

    Args:
        indices: int array of any shape with entries in [0, V).
        V: number of classes (vocabulary size).

    Returns:
        float64 array of shape ``indices.shape + (V,)``.

    Example:
        >>> one_hot(np.array([2, 0]), 3).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    V = positive_int("V", V)
    arr = _as_array("indices", indices)
    letters = tuple(f"A{i}" for i in range(arr.ndim))
    idx = Dims().int_array("indices", arr, letters, low=0, high=V)
    out = np.zeros(idx.shape + (V,))
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out


def _check_params(dims: Dims, params) -> dict:
    """Validate a parameter dict of the character model; return float64 arrays under the same keys."""
    if not isinstance(params, dict):
        raise DTypeError(f"params: expected a dict with keys {', '.join(PARAM_KEYS)}, got {type(params).__name__}")
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise RnngradInputError(f"params: expected keys {', '.join(PARAM_KEYS)}, missing {', '.join(missing)}")
    return {k: dims.float_array(f"params['{k}']", params[k], _PARAM_SHAPES[k]) for k in PARAM_KEYS}


def _check_batch(params, inputs, targets, h0):
    """Validate the arguments shared by every loss and gradient function of the model."""
    dims = Dims()
    p = _check_params(dims, params)
    V = dims["V"]
    inputs = dims.int_array("inputs", inputs, ("T", "N"), low=0, high=V)
    targets = dims.int_array("targets", targets, ("T", "N"), low=0, high=V)
    dims.nonempty("T", "N")  # the loss is a mean over the batch of a sum over at least one step
    if h0 is None:
        h0 = np.zeros((dims["N"], dims["H"]))
    else:
        h0 = dims.float_array("h0", h0, ("N", "H"))
    return p, inputs, targets, h0


def _forward(p: dict, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> tuple[float, dict]:
    """Loss and cache on validated arrays."""
    N = inputs.shape[1]
    xs = one_hot(inputs, p["W_x"].shape[0])
    hs = rnn_forward(xs, h0, p["W_x"], p["W_h"], p["b"])
    logits = hs @ p["W_y"] + p["b_y"]
    loss = cross_entropy(logits, targets, reduction="sum") / N
    cache = {"xs": xs, "hs": hs, "logits": logits, "h0": h0, "inputs": inputs, "targets": targets, "params": p}
    return loss, cache


def _output_backward(cache: dict) -> tuple[dict, np.ndarray]:
    """Gradients of the output layer and the direct gradients ``dhs`` (T, N, H) that reach the hidden states."""
    p, hs = cache["params"], cache["hs"]
    T, N, H = hs.shape
    dlogits = cross_entropy_grad(cache["logits"], cache["targets"], reduction="sum") / N
    flat = dlogits.reshape(T * N, -1)
    grads = {"W_y": hs.reshape(T * N, H).T @ flat, "b_y": flat.sum(axis=0)}
    return grads, dlogits @ p["W_y"].T


def _grads_from_sweep(cache: dict, out_grads: dict, das: np.ndarray, dh0: np.ndarray) -> dict:
    """Assemble the gradient dict (keys of PARAM_KEYS plus "h0") from the sweep's output."""
    grads = _param_grads(das, cache["xs"], cache["h0"], cache["hs"])
    grads.update(out_grads)
    grads["h0"] = dh0
    return {k: grads[k] for k in PARAM_KEYS + ("h0",)}


def char_lm_loss(params, inputs, targets, h0=None) -> tuple[float, dict]:
    """The loss ``L = (1/N) sum_t sum_n -log softmax(h_t W_y + b_y)[n, targets[t, n]]`` of the character model.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,), ``"W_y"`` (H, V), ``"b_y"`` (V,).
        inputs: int (T, N) character indices read at each step, in [0, V).
        targets: int (T, N) indices of the characters to predict at each step.
        h0: (N, H) initial hidden state, or None for zeros.

    Returns:
        ``(loss, cache)``: the loss (float; sum over time, mean over the batch) and a dict
        with the one-hot inputs ``"xs"`` (T, N, V), hidden states ``"hs"`` (T, N, H),
        ``"logits"`` (T, N, V) and the validated arguments.

    Example:
        >>> from rnngrad.rnn import init_rnn_params
        >>> # nearly zero weights
        >>> p = init_rnn_params(4, 3, C=4, rng=0, scale=1e-9)
        >>> loss, cache = char_lm_loss(p, np.zeros((5, 2), int),
        ...                            np.ones((5, 2), int))
        >>> # uniform predictions: log V per step
        >>> bool(abs(loss - 5 * np.log(4)) < 1e-6)
        True
        >>> cache["hs"].shape
        (5, 2, 3)
    """
    return _forward(*_check_batch(params, inputs, targets, h0))


def char_lm_grad(params, inputs, targets, h0=None) -> tuple[float, dict, np.ndarray]:
    """The loss of :func:`char_lm_loss` and its full gradient by back-propagation through time.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,), ``"W_y"`` (H, V), ``"b_y"`` (V,).
        inputs: int (T, N) in [0, V).
        targets: int (T, N) in [0, V).
        h0: (N, H) initial hidden state, or None for zeros.

    Returns:
        ``(loss, grads, h_last)``: the loss (float), a dict with the gradient of every
        parameter (same keys and shapes) and ``"h0"`` (N, H), and the last hidden state
        ``h_T`` (N, H), the initial state of the next chunk when training on a long text.

    Example:
        >>> from rnngrad.rnn import init_rnn_params
        >>> p = init_rnn_params(4, 3, C=4, rng=0)
        >>> rng = np.random.default_rng(0)
        >>> inputs, targets = (rng.integers(0, 4, (6, 2)),
        ...                    rng.integers(0, 4, (6, 2)))
        >>> loss, g, h_last = char_lm_grad(p, inputs, targets)
        >>> sorted(g), g["W_x"].shape, h_last.shape
        (['W_h', 'W_x', 'W_y', 'b', 'b_y', 'h0'], (4, 3), (2, 3))
        >>> # one finite difference
        >>> q = dict(p, b_y=p["b_y"] + np.array([1e-6, 0, 0, 0]))
        >>> bool(abs((char_lm_loss(q, inputs, targets)[0] - loss) / 1e-6
        ...          - g["b_y"][0]) < 1e-4)
        True
    """
    loss, cache = char_lm_loss(params, inputs, targets, h0)
    out_grads, dhs = _output_backward(cache)
    das, dh0 = _bptt_sweep(dhs, cache["hs"], cache["params"]["W_h"])
    return loss, _grads_from_sweep(cache, out_grads, das, dh0), cache["hs"][-1].copy()


@dataclass
class TrainResult:
    """What :func:`train_char_lm` returns.

    Attributes:
        params: the trained parameters (dict of float64 arrays, keys ``PARAM_KEYS``).
        losses: (steps,) mean cross-entropy per character (nats) of each training chunk,
            measured before that step's update.
        grad_norms: (steps,) global gradient norm of each step before clipping.
        vocab: the characters, sorted; index i of the model is ``vocab[i]``.
        h: (1, H) hidden state after the last chunk.

    Example:
        >>> res = train_char_lm("abab" * 4, hidden_size=4, seq_len=3, steps=5)
        >>> (res.vocab, res.losses.shape, res.h.shape,
        ...  res.decode(res.encode("ba")))
        ('ab', (5,), (1, 4), 'ba')
    """

    params: dict
    losses: np.ndarray
    grad_norms: np.ndarray
    vocab: str
    h: np.ndarray

    def encode(self, text: str) -> np.ndarray:
        """Indices (len(text),) of the characters of ``text`` (each must be in ``vocab``)."""
        lookup = {c: i for i, c in enumerate(self.vocab)}
        unknown = sorted(set(text) - set(lookup))
        if unknown:
            raise RnngradInputError(f"text: expected characters from the vocabulary, got unknown {unknown!r}")
        return np.array([lookup[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        """The string whose characters are ``vocab[i]`` for i in ``indices``."""
        idx = Dims().int_array("indices", _as_array("indices", indices).reshape(-1), ("L",),
                               low=0, high=len(self.vocab))
        return "".join(self.vocab[i] for i in idx)


CLIP_MODES = ("elementwise", "global_norm", None)


def train_char_lm(text: str, hidden_size: int, seq_len: int, steps: int,
                  lr: float = 0.1, rng=0,
                  clip: str | None = "elementwise", clip_value: float = 5.0,
                  scale: float | None = None
                  ) -> TrainResult:
    """Train the character model on ``text`` with truncated BPTT on
    consecutive chunks and Adagrad.

    Step s reads the next ``seq_len`` characters (targets: the same shifted
    by one), starting from the hidden state left by the previous chunk, so
    the state carries across chunks while the gradient stops at each chunk's
    start. At the end of the text the reading position and the state go back
    to the start and to zeros. The gradient is clipped
    (``clip="elementwise"``: every entry to [-clip_value, clip_value];
    ``"global_norm"``: rescaled to norm at most ``clip_value``; None: not
    clipped) and applied by :func:`rnngrad.adagrad_update`. Everything is
    determined by ``rng``.

    Args:
        text: training text with at least ``seq_len + 1`` characters.
        hidden_size: H.
        seq_len: characters per chunk (T).
        steps: number of updates.
        lr: Adagrad learning rate.
        rng: int seed or ``numpy.random.Generator`` of the parameter
            initialisation (None is refused).
        clip: "elementwise", "global_norm" or None.
        clip_value: threshold of the clipping.
        scale: weight scale for :func:`rnngrad.init_rnn_params` (None:
            1/sqrt(fan_in)).

    Returns:
        :class:`TrainResult` with the parameters, per-step losses and
        gradient norms, the vocabulary and the last hidden state.

    Example:
        >>> res = train_char_lm("abcabcabcabc", hidden_size=8, seq_len=5,
        ...                     steps=60, lr=0.3)
        >>> res.vocab, res.losses.shape
        ('abc', (60,))
        >>> # the pattern is learnt
        >>> bool(res.losses[-5:].mean() < 0.5 * res.losses[0])
        True
    """
    if not isinstance(text, str):
        raise DTypeError(f"text: expected a str, got {type(text).__name__}")
    H = positive_int("hidden_size", hidden_size)
    T = positive_int("seq_len", seq_len)
    steps = positive_int("steps", steps)
    if len(text) < T + 1:
        raise RnngradInputError(
            f"text: expected at least seq_len + 1 = {T + 1} characters, "
            f"got {len(text)}")
    lr = positive_number("lr", lr)  # Adagrad needs a finite rate
    check_choice("clip", clip, CLIP_MODES)
    if clip is not None:
        clip_value = positive_number("clip_value", clip_value,
                                     allow_inf=True)
    vocab = "".join(sorted(set(text)))
    V = len(vocab)
    lookup = {c: i for i, c in enumerate(vocab)}
    data = np.array([lookup[c] for c in text], dtype=np.int64)

    params = init_rnn_params(V, H, C=V, rng=rng, scale=scale)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    h = np.zeros((1, H))
    losses, norms = np.empty(steps), np.empty(steps)
    pos = 0
    for s in range(steps):
        if pos + T + 1 > len(data):
            pos, h = 0, np.zeros((1, H))
        inputs = data[pos:pos + T, None]
        targets = data[pos + 1:pos + T + 1, None]
        loss, grads, h = char_lm_grad(params, inputs, targets, h)
        del grads["h0"]  # the carried state is data, not a parameter
        if clip == "elementwise":
            norms[s] = clip_global_norm(grads, np.inf)[1]
            grads = clip_elementwise(grads, clip_value)
        else:
            grads, norms[s] = clip_global_norm(
                grads, clip_value if clip == "global_norm" else np.inf)
        params, memory = adagrad_update(params, grads, memory, lr)
        losses[s] = loss / T
        pos += T
    return TrainResult(params=params, losses=losses, grad_norms=norms,
                       vocab=vocab, h=h)


def sample(params, h, first_idx, n, rng, temperature: float = 1.0) -> np.ndarray:
    """Draw ``n`` characters from the model: ``c_{i+1} ~ softmax((h_i W_y + b_y) / temperature)`` fed back as input.

    The first input is ``first_idx``; each drawn character is the next input.

    Args:
        params: dict with ``"W_x"`` (V, H), ``"W_h"`` (H, H), ``"b"`` (H,), ``"W_y"`` (H, V), ``"b_y"`` (V,).
        h: (H,) or (1, H) hidden state to start from.
        first_idx: int in [0, V), the first character read.
        n: number of characters to draw.
        rng: int seed or ``numpy.random.Generator`` (advanced), the only
            source of randomness; None is refused.
        temperature: positive; below 1 sharpens the distribution, above 1 flattens it.

    Returns:
        int64 array (n,) of drawn character indices.

    Example:
        >>> res = train_char_lm("abcabcabcabc", hidden_size=8, seq_len=5,
        ...                     steps=60, lr=0.3)
        >>> idx = sample(res.params, res.h, 0, 9, np.random.default_rng(0),
        ...              temperature=0.1)
        >>> res.decode(idx)
        'bcabcabca'
    """
    dims = Dims()
    p = _check_params(dims, params)
    h = dims.float_array("h", _as_array("h", h).reshape(1, -1) if np.ndim(h) == 1 else h, (1, "H"))
    V = dims["V"]
    if isinstance(first_idx, (bool, np.bool_)) or not isinstance(first_idx, (int, np.integer)) \
            or not 0 <= first_idx < V:
        raise RnngradInputError(f"first_idx: expected an integer in [0, {V}), got {first_idx!r}")
    n = positive_int("n", n)
    gen = generator(rng)
    temperature = positive_number("temperature", temperature)
    out = np.empty(n, dtype=np.int64)
    idx = int(first_idx)
    for i in range(n):
        h = rnn_step_forward(one_hot(np.array([idx]), V), h, p["W_x"], p["W_h"], p["b"])
        probs = softmax((h[0] @ p["W_y"] + p["b_y"]) / temperature)
        idx = int(gen.choice(V, p=probs))
        out[i] = idx
    return out
