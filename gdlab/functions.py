"""Standard test objectives with value, analytic gradient and Hessian.

Every objective is callable on one point of shape (d,), which gives a float,
and on a stack of points of shape (d, ...), which gives an array of shape (...)
(handy for contour grids). `.grad` keeps the shape of its input; `.hessian`
gives shape (d, d) or (d, d, ...). `.minima` lists the global minimisers
(empty when there is none) and `.domain` is a plotting box, one (low, high)
pair per coordinate.

Reference for the formulas: Jamil & Yang, "A literature survey of benchmark
functions for global optimization problems" (2013).
"""
import numpy as np

from gdlab._validate import as_point, count, positive

__all__ = [
    "Objective", "Quadratic", "Rosenbrock", "Rastrigin",
    "rosenbrock", "himmelblau", "beale", "booth", "saddle", "rastrigin",
]


class Objective:
    """Base class: subclasses set name, dim, minima, domain and define _f, _grad, _hessian."""

    name = "objective"
    dim = 2
    minima = []
    domain = ((-1.0, 1.0), (-1.0, 1.0))

    def __call__(self, x):
        x = as_point(x, "x", self.dim, finite=False)
        value = self._f(x)
        return float(value) if x.ndim == 1 else value

    def grad(self, x):
        return self._grad(as_point(x, "x", self.dim, finite=False))

    def hessian(self, x):
        return self._hessian(as_point(x, "x", self.dim, finite=False))

    @property
    def f_min(self):
        """The global minimum value, or None when there is no minimum."""
        return self(self.minima[0]) if self.minima else None

    def __repr__(self):
        return f"<{self.name}: R^{self.dim} -> R>"


def _constant(H, x):
    """The same Hessian H at every point of x: shape (d, d) + x.shape[1:]."""
    return np.multiply.outer(H, np.ones(x.shape[1:]))


class Quadratic(Objective):
    """f(x) = x^T A x / 2 - b^T x for a symmetric matrix A; the minimiser solves A x = b."""

    def __init__(self, A, b=None, name=None):
        A = as_point(A, "A")
        if A.ndim == 1 and A.size == 1:
            A = A.reshape(1, 1)
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix of shape (d, d), got shape {A.shape}")
        if not np.allclose(A, A.T, rtol=1e-12, atol=0):
            raise ValueError("A must be symmetric (A == A.T); use (A + A.T) / 2 for the same quadratic form")
        self.A = A
        self.dim = A.shape[0]
        self.b = np.zeros(self.dim) if b is None else as_point(b, "b", self.dim)
        if self.b.shape != (self.dim,):
            raise ValueError(f"b must have shape ({self.dim},), got {self.b.shape}")
        self.eigenvalues = np.linalg.eigvalsh(A)
        self.name = name or f"quadratic ({self.dim}-D)"
        self.minima = [np.linalg.solve(A, self.b)] if self.mu > 0 else []
        centre = self.minima[0] if self.minima else np.zeros(self.dim)
        self.domain = tuple((c - 3.0, c + 3.0) for c in centre)

    @property
    def L(self):
        """Smoothness constant: the largest eigenvalue of A."""
        return float(self.eigenvalues[-1])

    @property
    def mu(self):
        """Strong-convexity constant: the smallest eigenvalue of A."""
        return float(self.eigenvalues[0])

    @property
    def condition_number(self):
        return self.L / self.mu if self.mu > 0 else float("inf")

    def _f(self, x):
        return 0.5 * np.einsum("i...,ij,j...->...", x, self.A, x) - np.einsum("i,i...->...", self.b, x)

    def _grad(self, x):
        return np.einsum("ij,j...->i...", self.A, x) - self.b.reshape((-1,) + (1,) * (x.ndim - 1))

    def _hessian(self, x):
        return _constant(self.A, x)


class Rosenbrock(Objective):
    """f(x) = sum_i (1 - x_i)^2 + b (x_{i+1} - x_i^2)^2; a curved valley, minimum 0 at (1, ..., 1)."""

    def __init__(self, dim=2, b=100.0):
        self.dim = count(dim, "dim", minimum=2)
        self.b = positive(b, "b")
        self.name = "Rosenbrock" if self.dim == 2 else f"Rosenbrock ({self.dim}-D)"
        self.minima = [np.ones(self.dim)]
        self.domain = ((-2.0, 2.0), (-1.0, 3.0)) + ((-2.0, 2.0),) * (self.dim - 2)

    def _f(self, x):
        head, tail = x[:-1], x[1:]
        return ((1 - head) ** 2 + self.b * (tail - head**2) ** 2).sum(axis=0)

    def _grad(self, x):
        head, tail = x[:-1], x[1:]
        valley = tail - head**2  # how far each x_{i+1} is from the floor of the valley, x_i^2
        g = np.zeros(x.shape)
        g[:-1] = -2 * (1 - head) - 4 * self.b * head * valley
        g[1:] += 2 * self.b * valley
        return g

    def _hessian(self, x):
        d = self.dim
        H = np.zeros((d, d) + x.shape[1:])
        i = np.arange(d - 1)
        head, tail = x[:-1], x[1:]
        H[i, i] = 2 - 4 * self.b * (tail - head**2) + 8 * self.b * head**2
        H[i + 1, i + 1] += 2 * self.b
        H[i, i + 1] = H[i + 1, i] = -4 * self.b * head
        return H


class Rastrigin(Objective):
    """f(x) = A d + sum_i (x_i^2 - A cos(2 pi x_i)); many local minima, global minimum 0 at the origin."""

    def __init__(self, dim=2, A=10.0):
        self.dim = count(dim, "dim", minimum=1)
        self.A = positive(A, "A")
        self.name = "Rastrigin" if self.dim == 2 else f"Rastrigin ({self.dim}-D)"
        self.minima = [np.zeros(self.dim)]
        self.domain = ((-5.12, 5.12),) * self.dim

    def _f(self, x):
        return self.A * self.dim + np.sum(x**2 - self.A * np.cos(2 * np.pi * x), axis=0)

    def _grad(self, x):
        return 2 * x + 2 * np.pi * self.A * np.sin(2 * np.pi * x)

    def _hessian(self, x):
        H = np.zeros((self.dim, self.dim) + x.shape[1:])
        i = np.arange(self.dim)
        H[i, i] = 2 + 4 * np.pi**2 * self.A * np.cos(2 * np.pi * x)
        return H


class _Himmelblau(Objective):
    """f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2: four global minima with f = 0."""

    name = "Himmelblau"
    minima = [np.array(p) for p in [
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.7793102533777465, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644036),
    ]]
    domain = ((-5.0, 5.0), (-5.0, 5.0))

    def _f(self, p):
        x, y = p
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def _grad(self, p):
        x, y = p
        u, v = x**2 + y - 11, x + y**2 - 7
        return np.array([4 * x * u + 2 * v, 2 * u + 4 * y * v])

    def _hessian(self, p):
        x, y = p
        xy = 4 * x + 4 * y
        return np.array([[12 * x**2 + 4 * y - 42, xy], [xy, 4 * x + 12 * y**2 - 26]])


class _Beale(Objective):
    """f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimum 0 at (3, 0.5)."""

    name = "Beale"
    minima = [np.array([3.0, 0.5])]
    domain = ((-4.5, 4.5), (-4.5, 4.5))
    _c = (1.5, 2.25, 2.625)

    def _f(self, p):
        x, y = p
        return sum((c - x + x * y**k) ** 2 for k, c in enumerate(self._c, start=1))

    def _grad(self, p):
        x, y = p
        gx = gy = 0
        for k, c in enumerate(self._c, start=1):
            r = c - x + x * y**k
            gx = gx + 2 * r * (y**k - 1)
            gy = gy + 2 * r * k * x * y ** (k - 1)
        return np.array([gx, gy])

    def _hessian(self, p):
        x, y = p
        hxx = hxy = hyy = 0
        for k, c in enumerate(self._c, start=1):
            r = c - x + x * y**k
            dx, dy = y**k - 1, k * x * y ** (k - 1)
            hxx = hxx + 2 * dx**2
            hxy = hxy + 2 * (dx * dy + r * k * y ** (k - 1))
            hyy = hyy + 2 * (dy**2 + r * k * (k - 1) * x * y ** max(k - 2, 0))
        return np.array([[hxx, hxy], [hxy, hyy]])


class _Booth(Objective):
    """f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2; a convex quadratic with minimum 0 at (1, 3)."""

    name = "Booth"
    minima = [np.array([1.0, 3.0])]
    domain = ((-10.0, 10.0), (-10.0, 10.0))

    def _f(self, p):
        x, y = p
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def _grad(self, p):
        x, y = p
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return np.array([2 * u + 4 * v, 4 * u + 2 * v])

    def _hessian(self, p):
        return _constant(np.array([[10.0, 8.0], [8.0, 10.0]]), p)


class _Saddle(Objective):
    """f(x, y) = x^2 + y^4 / 4 - y^2 / 2: a saddle point at the origin, minima -1/4 at (0, +-1)."""

    name = "saddle"
    minima = [np.array([0.0, 1.0]), np.array([0.0, -1.0])]
    saddle_point = np.zeros(2)
    domain = ((-1.5, 1.5), (-1.5, 1.5))

    def _f(self, p):
        x, y = p
        return x**2 + y**4 / 4 - y**2 / 2

    def _grad(self, p):
        x, y = p
        return np.array([2 * x, y**3 - y])

    def _hessian(self, p):
        x, y = p
        zero = np.zeros_like(x)
        return np.array([[zero + 2.0, zero], [zero, 3 * y**2 - 1]])


rosenbrock = Rosenbrock()
himmelblau = _Himmelblau()
beale = _Beale()
booth = _Booth()
saddle = _Saddle()
rastrigin = Rastrigin()
