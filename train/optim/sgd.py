"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""
from gradspace.train.optim.optimizer import Optimizer, check_nonnegative, dense, is_sparse


class SGD(Optimizer):
    r"""SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
    maximize=False): exactly PyTorch's `torch.optim.SGD`.

    With lr gamma, momentum mu, dampening tau, weight decay lambda, at step t:

        g_t = grad f(theta_{t-1})               (-grad when maximize)
        if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
        if mu != 0:
            b_t = g_t                          if t == 1
            b_t = mu * b_{t-1} + (1 - tau) * g_t   otherwise
            g_t = g_t + mu * b_t               if nesterov
            g_t = b_t                          otherwise
        theta_t = theta_{t-1} - gamma * g_t

    The momentum buffer b is `state[p]["momentum_buffer"]`. Nesterov needs momentum > 0 and
    dampening = 0. With a row-sparse gradient and neither momentum nor weight decay, only the
    rows that have a gradient are touched (every other row would change by exactly 0); in every
    other case the sparse gradient is used densely, so the result is always the dense one.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check(self, group):
        super()._check(group)
        check_nonnegative(self._name, "momentum", group["momentum"])
        check_nonnegative(self._name, "weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}")

    def _update(self, p, grad, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        sign = 1.0 if group["maximize"] else -1.0        # descend, or ascend when maximizing
        if is_sparse(grad) and mu == 0 and wd == 0:
            rows = grad.coalesce()                          # unique, sorted row ids
            p.data[rows.indices] += (sign * lr) * rows.values.astype(p.dtype, copy=False)
            return
        g = dense(grad, p)
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p.data
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += (1 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= lr * g
