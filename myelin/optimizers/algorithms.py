"""More of Keras's optimizers: Adamax, Nadam, Adadelta, Adafactor, Ftrl, Lion, Lamb.

Each follows Keras 3's update rule, arguments, defaults and ``get_config`` keys, and works
on the base class's flat buffers in place (see :mod:`myelin.optimizers`). Lamb and Adafactor
need each variable on its own (a trust ratio per variable; Adafactor's factored second
moments use each variable's shape): their rule runs once per variable.

Example:
    >>> from myelin import Tensor, optimizers
    >>> w = Tensor([1.0, -2.0], requires_grad=True)
    >>> optimizers.Lion(learning_rate=0.1).apply_gradients([([0.5, -0.5], w)])
    >>> w.data
    array([ 0.9, -1.9], dtype=float32)
"""

from __future__ import annotations

import math

from ..backend import array_module
from . import REGISTRY, Optimizer


def _check_beta(owner: str, name: str, value: float) -> float:
    if not 0 <= value < 1:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value}")
    return float(value)


@REGISTRY.register("Adamax", aliases=("adamax",))
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm.

    m <- m + (1 - b1)(g - m);  u <- max(b2 u, |g|);  p <- p - lr m / ((1 - b1^t)(u + eps))

    Example:
        >>> opt = Adamax(); opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon
        (0.001, 0.9, 0.999, 1e-07)
    """

    slots = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, **kwargs):
        self.beta_1, self.beta_2 = _check_beta("Adamax", "beta_1", beta_1), _check_beta("Adamax", "beta_2", beta_2)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        m, u = state["m"], state["u"]
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        u *= self.beta_2
        xp.maximum(u, xp.abs(g, out=tmp), out=u)
        xp.add(u, self.epsilon, out=tmp)
        xp.divide(m, tmp, out=tmp)
        tmp *= lr / (1 - self.beta_1 ** (self.iterations + 1))
        p -= tmp

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


@REGISTRY.register("Nadam", aliases=("nadam",))
class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat), with Keras's momentum schedule.

    u_t = b1 (1 - 0.5 * 0.96^t), U_t = u_1 ... u_t;
    m_hat = u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t);  v_hat = v / (1 - b2^t)
    p <- p - lr m_hat / (sqrt(v_hat) + eps)

    Example:
        >>> opt = Nadam(); opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon
        (0.001, 0.9, 0.999, 1e-07)
    """

    slots = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, **kwargs):
        self.beta_1, self.beta_2 = _check_beta("Nadam", "beta_1", beta_1), _check_beta("Nadam", "beta_2", beta_2)
        self.epsilon = float(epsilon)
        self._products = [1.0]  # U_0, U_1, ... (a function of the step count only)
        super().__init__(learning_rate, **kwargs)

    def _u(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _u_product(self, t: int) -> float:
        while len(self._products) <= t:
            self._products.append(self._products[-1] * self._u(len(self._products)))
        return self._products[t]

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        product, product_next = self._u_product(t), self._u_product(t) * u_next
        m, v = state["m"], state["v"]
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        xp.divide(v, 1 - self.beta_2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        m_hat = m * (u_next / (1 - product_next)) + g * ((1 - u_t) / (1 - product))
        xp.divide(m_hat, tmp, out=tmp)
        tmp *= lr
        p -= tmp

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


@REGISTRY.register("Adadelta", aliases=("adadelta",))
class Adadelta(Optimizer):
    """Adadelta (Zeiler), in Keras's form (its default learning rate is 0.001, torch's 1.0).

    a <- rho a + (1 - rho) g^2;  d = -sqrt(s + eps) g / sqrt(a + eps);
    s <- rho s + (1 - rho) d^2;  p <- p + lr d

    Example:
        >>> opt = Adadelta(); opt.learning_rate, opt.rho, opt.epsilon
        (0.001, 0.95, 1e-07)
    """

    slots = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        if not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {rho}")
        self.rho, self.epsilon = float(rho), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        a, s = state["accumulated_grad"], state["accumulated_delta_var"]
        a *= self.rho
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        a += tmp
        delta = xp.sqrt(s + self.epsilon)
        delta *= g
        xp.add(a, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        delta /= tmp
        s *= self.rho
        xp.multiply(delta, delta, out=tmp)
        tmp *= 1 - self.rho
        s += tmp
        delta *= lr
        p -= delta

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


@REGISTRY.register("Lion", aliases=("lion",))
class Lion(Optimizer):
    """Lion (Chen et al., 2023): the sign of an interpolated momentum.

    p <- p - lr sign(b1 m + (1 - b1) g);  m <- b2 m + (1 - b2) g

    Example:
        >>> opt = Lion(); opt.learning_rate, opt.beta_1, opt.beta_2
        (0.001, 0.9, 0.99)
    """

    slots = ("m",)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs):
        if not 0 < beta_1 <= 1:
            raise ValueError(f"Lion: beta_1 must be in (0, 1], got {beta_1}")
        if not 0 <= beta_2 <= 1:
            raise ValueError(f"Lion: beta_2 must be in [0, 1], got {beta_2}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        m = state["m"]
        xp.multiply(m, self.beta_1, out=tmp)
        tmp += (1.0 - self.beta_1) * g
        xp.sign(tmp, out=tmp)
        tmp *= lr
        p -= tmp
        m *= self.beta_2
        m += (1.0 - self.beta_2) * g

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


@REGISTRY.register("Ftrl", aliases=("ftrl",))
class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al.), with Keras's L1, L2 and shrinkage terms.

    n' = n + g^2;  z <- z + (g + 2 l2s p) - (n'^-c - n^-c) / lr * p   (c = learning_rate_power)
    p <- (clip(z, -l1, l1) - z) / (n'^-c / lr + 2 (l2 + beta / (2 lr)));  n <- n'

    Example:
        >>> opt = Ftrl(); opt.learning_rate_power, opt.initial_accumulator_value
        (-0.5, 0.1)
    """

    slots = ("accumulator", "linear")

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        **kwargs,
    ):
        checks = (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        )
        for name, value in checks:
            if value < 0:
                raise ValueError(f"Ftrl: {name} must be >= 0, got {value}")
        if learning_rate_power > 0:
            raise ValueError(f"Ftrl: learning_rate_power must be <= 0, got {learning_rate_power}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
        super().__init__(learning_rate, **kwargs)

    def _initial_state(self) -> dict:
        return {"accumulator": self.initial_accumulator_value}

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        n, z = state["accumulator"], state["linear"]
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        new_n = n + g * g
        new_sigma = xp.power(new_n, power)
        xp.power(n, power, out=tmp)
        xp.subtract(new_sigma, tmp, out=tmp)
        tmp /= lr
        tmp *= p
        z += g
        if self.l2_shrinkage_regularization_strength:
            z += 2 * self.l2_shrinkage_regularization_strength * p
        z -= tmp
        quadratic = new_sigma
        quadratic /= lr
        quadratic += 2 * l2
        l1 = self.l1_regularization_strength
        xp.clip(z, -l1, l1, out=tmp)
        tmp -= z
        xp.divide(tmp, quadratic, out=p)
        n[...] = new_n

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }


@REGISTRY.register("Lamb", aliases=("lamb",))
class Lamb(Optimizer):
    """LAMB (You et al.): Adam's step scaled per variable by ||p|| / ||step|| (1 when either is 0).

    Example:
        >>> opt = Lamb(); opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon
        (0.001, 0.9, 0.999, 1e-07)
    """

    slots = ("m", "v")
    _per_variable = True

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, **kwargs):
        self.beta_1, self.beta_2 = _check_beta("Lamb", "beta_1", beta_1), _check_beta("Lamb", "beta_2", beta_2)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        t = self.iterations + 1
        m, v = state["m"], state["v"]
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        xp.divide(v, 1.0 - self.beta_2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp /= 1.0 - self.beta_1**t
        w_norm = float(xp.sqrt((p * p).sum()))
        g_norm = float(xp.sqrt((tmp * tmp).sum()))
        ratio = w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
        tmp *= ratio * lr
        p -= tmp

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


@REGISTRY.register("Adafactor", aliases=("adafactor",))
class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern): second moments factored into row and column means.

    For a variable of rank >= 2 the state is one value per row (``r``, the last axis averaged)
    and per column (``c``, the second-last averaged), v = (r / mean(r)) outer c; a vector
    keeps the full v. The step is g / sqrt(v), clipped to RMS ``clip_threshold``, times
    max(epsilon_2, RMS(p)) * min(lr, 1 / sqrt(t)); beta_2 at step t is 1 - t^beta_2_decay.
    (The factored state lives at the start of each variable's slice of the flat buffers.)

    Example:
        >>> opt = Adafactor(); opt.beta_2_decay, opt.epsilon_1, opt.epsilon_2, opt.clip_threshold
        (-0.8, 1e-30, 0.001, 1.0)
    """

    slots = ("r", "c", "v")
    _per_variable = True

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        **kwargs,
    ):
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = float(beta_2_decay), float(epsilon_1), float(epsilon_2)
        self.clip_threshold, self.relative_step = float(clip_threshold), bool(relative_step)
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        shape = self._variable_shape
        t = self.iterations + 1
        if not callable(self._learning_rate) and self.relative_step:
            lr = min(lr, 1 / math.sqrt(t))
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(self.epsilon_2, float(xp.sqrt((p * p).mean()))) * rho
        beta_2 = 1 - t**self.beta_2_decay
        square = g * g + self.epsilon_1
        if len(shape) >= 2:
            grid = square.reshape(shape)
            r_size = math.prod(shape[:-1])
            c_shape = shape[:-2] + shape[-1:]
            r = state["r"][:r_size].reshape(shape[:-1])
            c = state["c"][: math.prod(c_shape)].reshape(c_shape)
            r *= beta_2
            r += (1 - beta_2) * grid.mean(axis=-1)
            c *= beta_2
            c += (1 - beta_2) * grid.mean(axis=-2)
            v = state["v"].reshape(shape)
            v[...] = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = state["v"]
            v *= beta_2
            v += (1 - beta_2) * square
        xp.sqrt(state["v"], out=tmp)
        xp.divide(g, tmp, out=tmp)
        rms = float(xp.sqrt((tmp * tmp).mean()))
        tmp *= alpha / max(1.0, rms / self.clip_threshold)
        p -= tmp

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
