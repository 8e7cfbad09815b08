"""Forward mode: autograd.forward_ad (PyTorch's spelling and errors), jvp and
directional_derivative without the backward engine, hvp and hessian by forward-over-reverse
against double backward, and jvp against torch.func.jvp on compositions of every op (with
recorded values for machines without torch).

Each op's own jvp is checked where its gradient is: check_op (strategies.py) runs gradcheck
with check_forward_ad and gradgradcheck with check_fwd_over_rev on the op-family tables.
"""
import contextlib

import numpy as np
import pytest
from compositions import STEPS, Gradspace, composition, covering, point, run, torch_namespace
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, shapes

import gradspace.nn.functional as F
from gradspace import autograd
from gradspace.autograd import Function, Tensor, engine
from gradspace.autograd import forward_ad as fwAD
from gradspace.autograd.gradients import gradients


@pytest.fixture(autouse=True)
def _float64():
    autograd.set_default_dtype(np.float64)


# -- the dual-number API ---------------------------------------------------------------------

def test_a_tangent_travels_forward_through_every_step():
    x = Tensor([0.5, 1.0, 2.0])
    u = np.array([1.0, -2.0, 0.5])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, u)
        y = dual.sin() * dual
        z = y.sum()
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.data,
                                   (np.cos(x.data) * x.data + np.sin(x.data)) * u)
        value, slope = fwAD.unpack_dual(z)
    assert isinstance(fwAD.unpack_dual(z), fwAD.UnpackedDualTensor)
    assert value.item() == pytest.approx(float((np.sin(x.data) * x.data).sum()))
    assert slope.item() == pytest.approx(float((np.cos(x.data) * x.data + np.sin(x.data)) @ u))


def test_make_dual_leaves_the_primal_alone_and_shares_its_memory():
    x = Tensor([1.0, 2.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, [1.0, 1.0])
        assert fwAD.unpack_dual(x).tangent is None
        assert np.shares_memory(dual.data, x.data)
        primal, tangent = fwAD.unpack_dual(dual)
        assert fwAD.unpack_dual(primal).tangent is None and primal is not dual
        np.testing.assert_array_equal(tangent.data, [1.0, 1.0])


def test_tangents_are_gone_when_the_level_exits():
    with fwAD.dual_level():
        dual = fwAD.make_dual(Tensor([1.0]), [3.0])
        y = dual * 2
    assert fwAD.unpack_dual(y).tangent is None and fwAD.unpack_dual(dual).tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None          # not even in a new level


def test_no_grad_does_not_stop_tangents_and_detach_does():
    with fwAD.dual_level():
        dual = fwAD.make_dual(Tensor([1.5, -0.5]), [2.0, 4.0])
        with autograd.no_grad():
            y = dual * 3
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.data, [6.0, 12.0])
        assert fwAD.unpack_dual(y.detach()).tangent is None


def test_a_tangent_takes_the_primal_dtype_and_a_cast_casts_it():
    with fwAD.dual_level():
        dual = fwAD.make_dual(Tensor(np.array([1.0, 2.0], np.float32)), np.array([0.1, 0.2]))
        assert fwAD.unpack_dual(dual).tangent.dtype == np.float32
        y = dual.double() * 2
        assert y.dtype == np.float64 and fwAD.unpack_dual(y).tangent.dtype == np.float64
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.data,
                                      np.array([0.1, 0.2], np.float32).astype(np.float64) * 2)


def test_a_constant_operand_contributes_no_tangent_and_broadcasting_expands_it():
    with fwAD.dual_level():
        dual = fwAD.make_dual(Tensor(2.0), 1.0)              # 0-d, broadcast against (2, 3)
        y = dual * Tensor(np.arange(6.0).reshape(2, 3)) + Tensor(np.ones((2, 1)))
        tangent = fwAD.unpack_dual(y).tangent
    assert tangent.shape == (2, 3)
    np.testing.assert_array_equal(tangent.data, np.arange(6.0).reshape(2, 3))


def test_errors_are_pytorchs():
    x = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, np.ones(3))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given "
                                               r"forward gradient is of size \[4\]"):
            fwAD.make_dual(x, np.ones(4))
        with pytest.raises(ValueError, match="floating point.*int64"):
            fwAD.make_dual(Tensor([1, 2]), np.ones(2))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fwAD.dual_level():
                pass
    with fwAD.dual_level():                     # the failed nesting left no level behind
        pass


class NoJvp(Function):
    def forward(self, a):
        return a * 2

    def backward(self, grad, out):
        return (grad * 2,)


def test_an_op_without_jvp_says_so_only_when_a_tangent_reaches_it():
    x = Tensor([1.0, 2.0])
    assert NoJvp.apply(x).shape == (2,)                       # outside forward mode: fine
    with fwAD.dual_level():
        NoJvp.apply(x)                                        # no tangent reaches it: fine
        with pytest.raises(NotImplementedError, match="NoJvp has no forward-mode derivative"):
            NoJvp.apply(fwAD.make_dual(x, [1.0, 0.0]))


class HalfJvp(Function):
    """x^2 with a right backward and a jvp that forgets the factor 2."""

    def forward(self, a):
        return a * a

    def backward(self, grad, out):
        return (grad * 2 * self.inputs[0],)

    def jvp(self, out, da):
        return da * self.inputs[0]


def test_gradcheck_with_check_forward_ad_catches_a_wrong_jvp():
    x = (np.array([0.5, -1.5]),)
    assert autograd.gradcheck(HalfJvp.apply, x)                 # reverse mode alone passes
    with pytest.raises(autograd.GradcheckError, match="forward-mode.*jvp 0.5, numeric 1"):
        autograd.gradcheck(HalfJvp.apply, x, check_forward_ad=True)


# -- jvp and directional_derivative: one forward pass, no backward engine ----------------------

def guide_f(x):
    """The guide's running example, f(x, y) = x^2 y + sin(x y)."""
    return x[0] ** 2 * x[1] + (x[0] * x[1]).sin()


def guide_grad(p):
    x, y = p
    return np.array([2 * x * y + y * np.cos(x * y), x ** 2 + x * np.cos(x * y)])


@contextlib.contextmanager
def engine_disabled():
    """The backward engine raises if anything calls it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the backward engine was called")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "backward", refuse)
        patch.setattr(engine, "steps", refuse)
        with pytest.raises(AssertionError, match="backward engine was called"):
            autograd.grad(guide_f)(np.array([1.0, 2.0]))      # the switch works
        yield


@given(p=arrays((2,)), u=arrays((2,)))
def test_directional_derivative_is_grad_dot_u_without_the_backward_engine(p, u):
    with engine_disabled():
        d = autograd.directional_derivative(guide_f, p, u)
        out, ju = autograd.jvp(guide_f, p, u)
    assert d.shape == () and d.item() == pytest.approx(float(guide_grad(p) @ u), abs=1e-12)
    assert out.item() == pytest.approx(p[0] ** 2 * p[1] + np.sin(p[0] * p[1]))
    assert ju.item() == d.item()


def test_jvp_of_a_function_that_ignores_x_is_zero():
    with engine_disabled():
        out, ju = autograd.jvp(lambda x: Tensor(np.ones((2, 2))) * 3, np.ones(3), np.ones(3))
    np.testing.assert_array_equal(ju.data, np.zeros((2, 2)))


def test_jvp_errors_before_running_f():
    calls = []
    with pytest.raises(ValueError, match=r"jvp: direction u has shape \(2,\) but x has "
                                         r"shape \(3,\)"):
        autograd.jvp(lambda x: calls.append(x) or x, np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"hvp: v has shape"):
        autograd.hvp(lambda x: calls.append(x) or x.sum(), np.ones(3), np.ones(2))
    assert calls == []


def test_jvp_inside_grad_is_differentiable():
    # d/dx (D_u f(x)) = H u: reverse over forward
    p, u = np.array([0.7, -1.2]), np.array([0.3, 0.5])
    outer = autograd.grad(lambda x: autograd.directional_derivative(guide_f, x, u))(p)
    np.testing.assert_allclose(outer.data, autograd.hvp(guide_f, p, u)[1].data, atol=1e-12)


# -- hvp and hessian: forward over reverse, against double backward ----------------------------

def double_backward_hvp(f, x, v):
    """H v the old way: the gradient of grad f . v, by reverse mode twice."""
    x = Tensor(x, requires_grad=True)
    (g,) = gradients(f(x), x, create_graph=True)
    (hv,) = gradients((g * Tensor(v)).sum(), x)
    return hv.data


TABLE = np.random.default_rng(3).standard_normal((4, 3))
SCALAR_FUNCTIONS = {          # of a vector x of 1 to 4 elements
    "polynomial_sin": lambda x: (x ** 2 * x.sum()).sum() + (x * x.mean()).sin().sum(),
    "tanh_sigmoid_exp": lambda x: (x.tanh() * x.sigmoid()).sum() * x.exp().mean(),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(1, -1) * x.reshape(-1, 1),
                                               np.arange(x.numel()) % 2),
    "matmul": lambda x: (x.reshape(-1, 1) @ x.reshape(1, -1)).tanh().sum(),
    "max_logsumexp_var": lambda x: x.max() * x.logsumexp(0) + x.var(correction=0),
    "index_cat": lambda x: (autograd.cat([x, x[::-1] * x]) ** 2).sum(),
    "embedding": lambda x: (F.embedding(np.array([[0, 1], [1, 1]]) % x.numel(),
                                        x.reshape(-1, 1) * Tensor(TABLE[:x.numel()])).sin()
                            * x.sum()).sum(),
}


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
@given(data=st.data())
def test_hvp_equals_double_backward(name, data):
    f = SCALAR_FUNCTIONS[name]
    n = data.draw(st.integers(1, 4), label="n")
    x, v = data.draw(arrays((n,)), label="x"), data.draw(arrays((n,)), label="v")
    value, hv = autograd.hvp(f, x, v)
    assert value.item() == pytest.approx(f(Tensor(x)).item())
    np.testing.assert_allclose(hv.data, double_backward_hvp(f, x, v), rtol=1e-9, atol=1e-10)


@given(shape=shapes(max_dims=2, max_side=3), data=st.data())
def test_hessian_equals_double_backward_on_every_shape(shape, data):
    x = data.draw(arrays(shape), label="x")
    f = SCALAR_FUNCTIONS["polynomial_sin"]
    h = autograd.hessian(f, x)
    assert h.shape == shape + shape
    columns = [double_backward_hvp(f, x, np.eye(x.size)[k].reshape(shape)).reshape(-1)
               for k in range(x.size)]
    np.testing.assert_allclose(h.data.reshape(x.size, x.size), np.stack(columns, axis=1),
                               rtol=1e-9, atol=1e-10)


def test_hvp_runs_f_once_whatever_the_size():
    calls = []

    def f(x):
        calls.append(1)
        return (x * x.sin()).sum() ** 2

    for n in (2, 500):
        calls.clear()
        autograd.hvp(f, np.ones(n), np.ones(n))
        assert len(calls) == 1


# -- jvp against torch.func.jvp on compositions of every op ------------------------------------

# -- jvp against torch.func.jvp on compositions of every op ------------------------------------

# (seed, steps, f(x), J u): torch.func.jvp (torch 2.13.0) at x, u = compositions.point(seed)
RECORDED = [
    (0, ('tanh', 'bce', 'mean_var', 'min'),
     [-7.029061559146152e-06, -0.0012727702120361708, -0.00025461579108930835,
      1.18320053658881e-05, 0.002142451570759019, 0.0004285942555857338],
     [-0.0017094744132696744, -0.0063710101273555635, 0.0017782960433376331,
      0.0029237628200599573, 0.019091297953936066, -0.0013195984214906585]),
    (1, ('maximum', 'clamp', 'sum', 'logsigmoid'),
     [-0.42826567198223914, -0.20344922748324304, -0.4379135184616399,
      -0.03926689056555565, -0.04552591355379587, -0.03620311864701145],
     [-0.2794279528393251, 0.2686620490757205, 0.2922348304228745,
      0.00011374644993533349, 0.0005169112995209687, 0.00010773325793375799]),
    (2, ('relu', 'pow', 'cat', 'stack'),
     [1.970724634308547, 0.9788493212851099, 0.9787060445960332,
      4.808161245788909, 1.071893769964564, 0.990467462610009],
     [0.034726913103922744, -0.00802838186335091, 0.0022734499661833767,
      0.5848841050690051, 0.14511450441258378, -0.02553152582074426]),
    (3, ('matmul', 'add', 'exp', 'expand'),
     [0.1457872359805535, 0.13825174926095918, 0.1912584789915833,
      1.0295508894871406, 0.639511159045204, 1.0065984307946243],
     [0.09070379743950642, 0.005218465334585702, -0.05651867241099326,
      0.24801628028238987, -1.501230640638392, 0.3736882174462915]),
    (4, ('permute', 'rpow', 'minimum', 'div'),
     [0.19362704909279813, 0.20548148784244316, 0.2972428332747079,
      0.43870264124677283, 0.41501252161522806, 0.499986993456283],
     [0.0, 0.0, 0.0,
      0.030031359516107664, 0.0, 0.007876411602584059]),
    (5, ('sin', 'unsqueeze', 'logsumexp', 'abs'),
     [1.5818464444488067, 0.4549791008836748, 1.832933744680715,
      0.5688375489014386, 1.7216291853059815, 1.3663265321701845],
     [1.221515845046918, -0.6551562024048241, 1.0286967165889285,
      -0.2327495598091635, -0.8436354580823697, 1.1080503885202864]),
    (6, ('mse', 'neg', 'sub', 'embedding'),
     [2.866786857392443, 12.869159459485736, -27.587087773622113,
      2.866786857392443, 12.869159459485736, -27.587087773622113],
     [5.545031948051663, 17.42323493360291, 6.801195817156904,
      5.545031948051663, 17.42323493360291, 6.801195817156904]),
    (7, ('cross_entropy', 'softmax', 'mul', 'max'),
     [-0.2745077470025272, 0.0, -0.4314553332561941,
      -0.38263717604599395, 0.0, -0.43801093652860873],
     [-1.2887040715094535, 0.0, -1.4155968094015612,
      -0.8798118117198355, 0.0, -0.31683340948700217]),
    (8, ('sqrt', 'linear', 'index', 'cross_entropy_mean'),
     [-20.48481156236354, -8.86874425896039, -34.90753478854617,
      -18.667809150400632, -11.669809979316401, -33.92347148015307],
     [-36.605869576260936, 14.159284610849262, -44.37305287058476,
      -28.83226442363096, -2.993245175930822, -34.99412823643465]),
    (9, ('where', 'cos', 'log', 'pow_number'),
     [0.5301749841058115, 0.9672501823357428, 0.3536095172216719,
      0.8009630089343368, 0.38053757285699086, 0.785350476188524],
     [0.2774523610535908, -0.014736150369360192, 0.0010286536405622302,
      0.7885063204873408, 0.45093226196001907, 1.0060868057170795]),
    (10, ('sigmoid', 'log_softmax', 'reshape_T'),
     [-1.2781871520468924, -1.071990022593789, -0.539336626015494,
      -0.8749927562254278, -0.3264808330821072, -0.4190468256815017],
     [0.5809277349669975, 0.6022352763487535, -0.4682756889103513,
      0.6550511548262141, -0.2242855573819288, -0.31347041842943724]),
]


def test_recorded_compositions_use_every_op():
    used = {name for _, names, _, _ in RECORDED for name in names}
    assert used == set(STEPS) and [names for _, names, _, _ in RECORDED] == covering()


@pytest.mark.parametrize("seed, names, value, slope", RECORDED, ids=lambda v: None)
def test_jvp_equals_the_recorded_torch_jvp(seed, names, value, slope):
    x, u = point(seed)
    out, ju = autograd.jvp(lambda t: run(names, t, Gradspace), x, u)
    np.testing.assert_allclose(out.data.reshape(-1), value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ju.data.reshape(-1), slope, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")    # torch.func's own imports
@pytest.mark.parametrize("seed", range(40))
def test_jvp_equals_torch_func_jvp_on_random_compositions(seed):
    torch = pytest.importorskip("torch")
    names = composition(seed, length=5)
    x, u = point(1000 + seed)
    out, ju = autograd.jvp(lambda t: run(names, t, Gradspace), x, u)
    t_out, t_ju = torch.func.jvp(lambda t: run(names, t, torch_namespace(torch)),
                                 (torch.tensor(x),), (torch.tensor(u),))
    np.testing.assert_allclose(out.data, t_out.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ju.data, t_ju.numpy(), rtol=1e-9, atol=1e-12)


def test_pow_at_zero_has_the_same_slope_forward_and_backward():
    # PyTorch's values at the points where p a^(p-1) or a^p log a is 0 * inf: 0. Forward mode
    # must agree with reverse mode there, not give NaN.
    a = np.array([0.0, 0.0, 2.0])
    p = np.array([0.0, 2.0, 0.0])
    for argnum, u in ((0, np.array([1.0, 1.0, 1.0])), (1, np.array([1.0, 1.0, 1.0]))):
        f = (lambda x: x ** Tensor(p)) if argnum == 0 else (lambda y: Tensor(a) ** y)
        x = a if argnum == 0 else p
        _, forward = autograd.jvp(f, x, u)
        reverse = autograd.vjp(f, x, np.ones(3))[1]
        assert np.all(np.isfinite(forward.numpy()))
        assert np.array_equal(forward.numpy(), reverse.numpy())
