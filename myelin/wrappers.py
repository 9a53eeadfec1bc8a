"""Level 6: scikit-learn estimators around myelin models (Keras 3's ``keras.wrappers``).

``SKLearnClassifier`` and ``SKLearnRegressor`` follow scikit-learn's estimator contract
(``get_params``/``set_params``, ``fit``/``predict``/``score``, ``clone``, pickling), so a
myelin network can sit in a ``Pipeline``, be tuned by ``GridSearchCV`` and scored by
``cross_val_score``. scikit-learn is imported only when this module is
(``pip install 'myelin[sklearn]'``); ``import myelin`` never imports it.

``model`` is a compiled myelin ``Model`` (cloned with fresh weights and compiled the same
way at each ``fit``) or a function ``model(X, y, **model_kwargs)`` that builds and compiles
one for the data it is given: its input width from ``X.shape[1]`` and, for a classifier,
its output from the number of classes.

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> from myelin.wrappers import SKLearnClassifier  # doctest: +SKIP
    >>> def build(X, y, hidden=16):
    ...     model = myelin.Sequential([
    ...         myelin.Input(shape=(X.shape[1],)),
    ...         layers.Dense(hidden, activation="relu"),
    ...         layers.Dense(len(set(y)), activation="softmax"),
    ...     ])
    ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
    ...     return model
    >>> clf = SKLearnClassifier(build, model_kwargs={"hidden": 32}, fit_kwargs={"epochs": 50})  # doctest: +SKIP
    >>> clf.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, check_random_state, validate_data
except ModuleNotFoundError as err:  # pragma: no cover - exercised only without scikit-learn
    raise ModuleNotFoundError("myelin.wrappers needs scikit-learn 1.6 or later: pip install 'myelin[sklearn]'") from err

from . import backend
from .models import Model, Sequential, clone_model


# ---------------------------------------------------------------------------- cloning a model argument
def _copy_non_trainable(source: Model, target: Model) -> None:
    """Carry over what preprocessing layers learned by ``adapt`` (their non-trainable weights)."""
    for old, new in zip(source.layers, target.layers):
        if old.weights and not old.trainable_weights and len(old.weights) == len(new.weights):
            new.set_weights(old.get_weights())


def clone(model: Model) -> Model:
    """The same architecture with fresh weights, compiled as ``model`` was (what ``fit`` trains).

    Preprocessing layers keep what ``adapt`` taught them (vocabularies, mean and variance).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(1)])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> c = clone(m)  # doctest: +SKIP
        >>> c.compiled, c.count_params()  # doctest: +SKIP
        (True, 3)
    """
    if not (isinstance(model, Sequential) or model._functional):
        raise TypeError(
            f"model {model.name!r} is a subclassed Model, which cannot be cloned from its config; "
            "pass a function that builds and compiles it instead (model=build_fn)"
        )
    new = clone_model(model)
    _copy_non_trainable(model, new)
    if model.compiled:  # the same compile arguments, a fresh optimizer
        new.compile_from_config(model.get_compile_config())
    return new


def _relink_optimizer(model: Model) -> None:
    """After unpickling or deep-copying: rebuild the optimizer over the model's own weights.

    The optimizer keeps the weights as views into one flat buffer; a copy of the model
    copies the views as separate arrays. A new optimizer built over the same variables, with
    the old one's state, restores the link so that further training updates the weights.
    """
    opt = getattr(model, "optimizer", None)
    if opt is None or not opt.built:
        return
    new = type(opt).from_config(opt.get_config())
    new.build(opt.variables)
    new.set_state(opt.get_state())
    model.optimizer = new
    model._train_params = None
    reset = getattr(model, "_reset_plans", None)
    if reset is not None:  # recorded steps may hold the old arrays
        reset()


class _Seeded:
    """Within the block, myelin's generator draws from ``random_state``; afterwards it is as it was."""

    def __init__(self, random_state):
        self.seed = None if random_state is None else int(check_random_state(random_state).randint(0, 2**31 - 1))

    def __enter__(self):
        if self.seed is not None:
            self.saved = backend.rng_state()
            backend.set_rng_state(np.random.default_rng(self.seed).bit_generator.state)

    def __exit__(self, *exc):
        if self.seed is not None:
            backend.set_rng_state(self.saved)
        return False


# ---------------------------------------------------------------------------- the estimators
class SKLBase(BaseEstimator):
    """What the classifier and the regressor share: building, fitting, seeding, pickling.

    Arguments (Keras 3's, plus ``random_state``):
        model: a compiled ``Model`` (cloned at each ``fit``) or a callable
            ``model(X, y, **model_kwargs)`` returning a compiled ``Model``; it receives the
            training data as the model will see it (a classifier's ``y`` one-hot encoded,
            shape (n, classes), as in Keras 3).
        warm_start: keep training the fitted model on the next ``fit`` instead of building a new one.
        model_kwargs: keyword arguments for the ``model`` callable.
        fit_kwargs: keyword arguments for ``Model.fit`` (epochs, batch_size, callbacks, ...);
            ``fit(X, y, **kwargs)`` adds to them. ``verbose`` defaults to 0.
        random_state: an int (or RandomState) makes ``fit`` reproducible: the weights,
            shuffling and dropout draw from it; None leaves myelin's generator as it is.

    Attributes after ``fit``: ``model_`` (the trained model), ``history_`` (its History),
    ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame).
    """

    def __init__(self, model=None, warm_start: bool = False, model_kwargs=None, fit_kwargs=None, random_state=None):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _build(self, X, y) -> Model:
        if isinstance(self.model, Model):
            if self.model_kwargs:
                raise ValueError(f"{type(self).__name__}: model_kwargs are for a model-building function, not a Model")
            if not self.model.compiled:
                raise ValueError(f"{type(self).__name__}: the model given must be compiled (model.compile(...))")
            model = clone(self.model)
        elif callable(self.model):
            model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        else:
            raise TypeError(
                f"{type(self).__name__}: model must be a compiled myelin Model or a function that builds one, "
                f"got {type(self.model).__name__}: {self.model!r}"
            )
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: the model function returned {type(model).__name__}, not a myelin Model")
        if not model.compiled:
            raise ValueError(f"{type(self).__name__}: the model function must compile the model it returns")
        return model

    def _warm(self) -> bool:
        return bool(self.warm_start) and hasattr(self, "model_")

    def _validate(self, X, y=None, reset: bool = False, fitting: bool = False):
        kw = {"dtype": [np.float32, np.float64], "ensure_min_samples": 1}
        if not fitting:
            return validate_data(self, X, reset=reset, **kw)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        regressor = isinstance(self, RegressorMixin)
        return validate_data(self, X, y, reset=reset, y_numeric=regressor, multi_output=regressor, **kw)

    def _fit(self, X, y_model, sample_weight, kwargs):
        """Build the model (unless warm-starting) and train it on ``y_model``, the targets as the model takes them."""
        X = X.astype(backend.floatx(), copy=False)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            if not sample_weight.any():
                raise ValueError(f"{type(self).__name__}: every sample weight is zero; there is nothing to learn")
        with _Seeded(self.random_state):
            if not self._warm():
                self.model_ = self._build(X, y_model)
                self._check_model(self.model_)
            fit_kwargs = {"verbose": 0, **(self.fit_kwargs or {}), **kwargs}
            if sample_weight is not None:
                fit_kwargs["sample_weight"] = sample_weight
            self.history_ = self.model_.fit(X, self._model_targets(y_model), **fit_kwargs)
        return self

    def _check_model(self, model: Model) -> None:
        if isinstance(model.output_shape, list):
            raise ValueError(f"{type(self).__name__}: the model must have one output, it has {len(model.output_shape)}")

    def _model_targets(self, y_model):
        return y_model

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = self._validate(X)
        out = self.model_.predict(X.astype(backend.floatx(), copy=False), verbose=0)
        out = np.asarray(out, dtype=np.float64)
        return out.reshape(len(out), -1)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "model_" in state:
            _relink_optimizer(self.model_)


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A scikit-learn classifier around a myelin model (Keras 3's ``SKLearnClassifier``).

    Labels of any type (strings too) are encoded and ``classes_`` holds them in sorted
    order. The model function receives ``y`` one-hot encoded (n, classes), so its output
    layer can be ``Dense(y.shape[1], activation="softmax")`` with
    ``categorical_crossentropy``. Other heads work too: a model compiled with
    ``sparse_categorical_crossentropy`` is trained on class indices, and one with a single
    sigmoid unit (two classes) on 0/1. ``predict_proba`` returns one column per class;
    ``score`` is the accuracy.

    Example:
        >>> from myelin.wrappers import SKLearnClassifier  # doctest: +SKIP
        >>> from sklearn.model_selection import cross_val_score  # doctest: +SKIP
        >>> cross_val_score(SKLearnClassifier(build, fit_kwargs={"epochs": 30}), X, y, cv=5)  # doctest: +SKIP
    """

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Encode the labels, build (or clone) the model and train it; returns self."""
        warm = self._warm()
        X, y = self._validate(X, y, reset=not warm, fitting=True)
        check_classification_targets(y)
        y = np.ravel(y) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(f"{type(self).__name__}: y must hold one class label per sample, got {type_of_target(y)} targets")
        if not warm:
            self._encoder = LabelEncoder().fit(y)
            self.classes_ = self._encoder.classes_
        codes = self._encoder.transform(y)
        onehot = np.zeros((len(codes), len(self.classes_)), dtype=backend.floatx())
        onehot[np.arange(len(codes)), codes] = 1
        return self._fit(X, onehot, sample_weight, kwargs)

    def _check_model(self, model: Model) -> None:
        super()._check_model(model)
        n_classes, width = len(self.classes_), model.output_shape[-1]
        loss = model.loss
        name = loss if isinstance(loss, str) else type(loss).__name__
        if width == 1 and n_classes <= 2:
            self._target_mode = "binary"
        elif width == n_classes:
            sparse = name in ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy")
            self._target_mode = "sparse" if sparse else "onehot"
        else:
            raise ValueError(
                f"{type(self).__name__}: the model's output has {width} units but y has {n_classes} classes; build "
                "the output layer from the data, e.g. Dense(y.shape[1], activation='softmax') (y comes one-hot encoded)"
            )

    def _model_targets(self, onehot: np.ndarray) -> np.ndarray:
        if self._target_mode == "binary":
            return onehot[:, -1:]  # the second class is the positive one
        if self._target_mode == "sparse":
            return onehot.argmax(axis=1)
        return onehot

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class, one column per entry of ``classes_``."""
        out = self._predict_raw(X)
        if self._target_mode == "binary":
            p = out[:, 0]
            if len(self.classes_) == 1:  # trained on a single class: it is certain
                return np.ones((len(p), 1))
            return np.column_stack([1 - p, p])
        return out

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample, as a label from ``classes_``."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A scikit-learn regressor around a myelin model (Keras 3's ``SKLearnRegressor``).

    ``y`` of shape (n,) is given to the model (and its function) as one column, and
    predictions come back as (n,); a 2-D ``y`` (several targets) keeps its columns.
    ``score`` is R².

    Example:
        >>> from myelin.wrappers import SKLearnRegressor  # doctest: +SKIP
        >>> reg = SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 100}, random_state=0)  # doctest: +SKIP
        >>> reg.fit(X, y).score(X, y)  # doctest: +SKIP
    """

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build (or clone) the model and train it on float targets; returns self."""
        X, y = self._validate(X, y, reset=not self._warm(), fitting=True)
        y = np.asarray(y, dtype=backend.floatx())
        self._y_ndim = y.ndim
        return self._fit(X, y.reshape(len(y), -1), sample_weight, kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # a 2-D y trains one output unit per column
        return tags

    def predict(self, X) -> np.ndarray:
        """Predictions: (n,) for a 1-D training target, (n, targets) otherwise."""
        out = self._predict_raw(X)
        return out[:, 0] if self._y_ndim == 1 and out.shape[1] == 1 else out


__all__ = ["SKLBase", "SKLearnClassifier", "SKLearnRegressor", "clone"]
