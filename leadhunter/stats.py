"""Small-sample statistics for suggestions and forecasts: Beta posteriors and Wilson intervals.

Pure functions on numbers (no app imports): the ICP suggestions (icp/suggestions.py) and the
win probability (forecast/probability.py) share them. No SciPy: the regularised incomplete
beta function by its continued fraction (Lentz's method) and the quantile by Newton's method
inside a bisection bracket are
exact enough (1e-9) for percentages shown with no decimals.
"""

from __future__ import annotations

import math

# z for a two-sided 80% interval: the ranges shown are "80% likely to hold the true rate".
Z_80 = 1.2815515655446004
_EPSILON = 1e-12
_MAX_ITERATIONS = 300


def beta_cdf(x: float, a: float, b: float) -> float:
    """P(X <= x) for X ~ Beta(a, b), a, b > 0."""
    if a <= 0 or b <= 0:
        raise ValueError("Beta parameters must be greater than 0")
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast for x below the mean; use the symmetry otherwise.
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, _MAX_ITERATIONS + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < _EPSILON:
            break
    return result


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x with P(X <= x) = q for X ~ Beta(a, b): Newton's method inside a bisection bracket
    (a step that leaves the bracket bisects instead), so it always converges; usually in a
    handful of steps, which matters when a forecast needs hundreds of them."""
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    if q in (0, 1):
        return float(q)
    low, high = 0.0, 1.0
    mean = a / (a + b)
    spread = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    x = min(max(mean + _normal_quantile(q) * spread, 1e-6), 1 - 1e-6)
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    for _ in range(_MAX_ITERATIONS):
        error = beta_cdf(x, a, b) - q
        if abs(error) < 1e-12:
            return x
        if error < 0:
            low = x
        else:
            high = x
        density = math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))
        step = x - error / density if density > 0 else -1.0
        x = step if low < step < high else (low + high) / 2
        if high - low < 1e-15:
            break
    return x


def _normal_quantile(q: float) -> float:
    """A rough standard normal quantile (a starting point for Newton's method only)."""
    t = math.sqrt(-2 * math.log(min(q, 1 - q)))
    z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
        1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3
    )
    return z if q > 0.5 else -z


def beta_interval(a: float, b: float, mass: float = 0.8) -> tuple[float, float]:
    """The central credible interval holding `mass` of Beta(a, b)."""
    tail = (1 - mass) / 2
    return beta_quantile(tail, a, b), beta_quantile(1 - tail, a, b)


def wilson_interval(successes: int, trials: int, z: float = Z_80) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def difference_interval(
    hits_a: int, n_a: int, hits_b: int, n_b: int, z: float = Z_80
) -> tuple[float, float]:
    """Newcombe's interval (method 10, from two Wilson intervals) for p_a - p_b.

    Honest with small samples where the plain normal interval is not: with 3 of 3 against 0
    of 2 it still spans a wide range instead of claiming certainty.
    """
    p_a = hits_a / n_a if n_a else 0.0
    p_b = hits_b / n_b if n_b else 0.0
    low_a, high_a = wilson_interval(hits_a, n_a, z)
    low_b, high_b = wilson_interval(hits_b, n_b, z)
    difference = p_a - p_b
    low = difference - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return max(-1.0, low), min(1.0, high)
