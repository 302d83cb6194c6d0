"""Task prompt vectors: store round trip, listing, combination, similarity, and arithmetic properties."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from soft_prompts import arithmetic  # noqa: E402
from soft_prompts.vectors import (  # noqa: E402
    apply_vector,
    combine_vectors,
    create_task_vector,
    list_vectors,
    load_origin,
    load_vector,
    save_origin,
    save_vector,
    similarity_matrix,
    tensor_id,
)

SHAPE = (3, 4)


def _tensor(seed: int) -> torch.Tensor:
    return torch.randn(*SHAPE, generator=torch.Generator().manual_seed(seed))


@pytest.fixture()
def store(tmp_path):
    origin = _tensor(0)
    save_origin(tmp_path, origin)
    for index, name in enumerate(("nli", "sentiment", "sports")):
        vector = create_task_vector(
            _tensor(index + 1), origin, name, name, "tiny", {"dev_accuracy": 0.5 + index / 10}
        )
        save_vector(tmp_path, vector)
    return tmp_path, origin


def test_round_trip_and_listing(store):
    directory, origin = store
    names = [meta.name for meta in list_vectors(directory)]
    assert names == ["nli", "sentiment", "sports"]
    loaded = load_vector(directory, "sentiment")
    torch.testing.assert_close(loaded.values, _tensor(2) - origin)
    assert loaded.metadata.origin_id == tensor_id(origin)
    assert loaded.metadata.metrics == {"dev_accuracy": pytest.approx(0.6)}
    torch.testing.assert_close(load_origin(directory, loaded.metadata.origin_id), origin)
    torch.testing.assert_close(apply_vector(directory, loaded), _tensor(2))
    metadata = json.loads((directory / "vectors" / "sentiment.json").read_text())
    assert metadata["model"] == "tiny" and metadata["n_virtual_tokens"] == 3


def test_store_errors_name_the_problem(store):
    directory, origin = store
    with pytest.raises(FileExistsError, match="sentiment.safetensors"):
        save_vector(directory, create_task_vector(_tensor(9), origin, "sentiment", "s", "tiny"))
    with pytest.raises(ValueError, match="invalid vector name"):
        create_task_vector(_tensor(9), origin, "../escape", "s", "tiny")
    with pytest.raises(FileNotFoundError, match="available: nli, sentiment, sports"):
        load_vector(directory, "missing")
    (directory / "vectors" / "broken.json").write_text("{\n  not json")
    with pytest.raises(ValueError, match=r"broken.json: invalid JSON at line 2"):
        list_vectors(directory)
    (directory / "vectors" / "broken.json").write_text(json.dumps({"name": "broken", "colour": 1}))
    with pytest.raises(ValueError, match=r"broken.json: unknown field\(s\) \['colour'\]"):
        list_vectors(directory)
    assert list_vectors(directory / "nowhere") == []


def test_combine_sum_negation_ties_dare(store):
    directory, origin = store
    nli, sentiment = (load_vector(directory, name).values for name in ("nli", "sentiment"))
    combined = combine_vectors(directory, ["nli", "sentiment"], weights=[1.0, -0.5], save=True)
    torch.testing.assert_close(combined.values, nli - 0.5 * sentiment)
    assert combined.metadata.name == "nli+sentiment"
    assert combined.metadata.origin_id == tensor_id(origin)
    assert "nli+sentiment" in [meta.name for meta in list_vectors(directory)]
    ties = combine_vectors(directory, ["nli", "sentiment"], method="ties", density=1.0)
    torch.testing.assert_close(ties.values, arithmetic.ties_merge([nli, sentiment], density=1.0))
    dare_a = combine_vectors(directory, ["nli", "sentiment"], method="dare", seed=1, drop_rate=0.5)
    dare_b = combine_vectors(directory, ["nli", "sentiment"], method="dare", seed=1, drop_rate=0.5)
    torch.testing.assert_close(dare_a.values, dare_b.values)
    with pytest.raises(ValueError, match="method must be"):
        combine_vectors(directory, ["nli"], method="mean")


def test_combining_across_origins_is_refused(store):
    directory, _ = store
    other_origin = _tensor(50)
    save_vector(directory, create_task_vector(_tensor(51), other_origin, "trec", "trec", "tiny"))
    with pytest.raises(ValueError, match="different origins"):
        combine_vectors(directory, ["nli", "trec"])


def test_similarity_matrix(store):
    directory, _ = store
    matrix = similarity_matrix(directory)
    assert matrix.names == ("nli", "sentiment", "sports")
    torch.testing.assert_close(matrix.values, matrix.values.T)
    torch.testing.assert_close(torch.diagonal(matrix.values), torch.ones(3))
    assert len(matrix.as_rows()) == 3
    subset = similarity_matrix(directory, ["sports", "nli"])
    assert subset.values[0, 1] == pytest.approx(float(matrix.values[2, 0]), abs=1e-6)


finite = st.floats(min_value=-3, max_value=3, allow_nan=False, width=32)
vectors_strategy = st.lists(st.lists(finite, min_size=6, max_size=6), min_size=1, max_size=4)


def _as_tensors(values: list[list[float]]) -> list[torch.Tensor]:
    return [torch.tensor(row).view(2, 3) for row in values]


@settings(max_examples=60, deadline=None)
@given(vectors_strategy, st.floats(min_value=-2, max_value=2, allow_nan=False))
def test_weighted_sum_is_linear(values, scale):
    tensors = _as_tensors(values)
    weights = [scale] * len(tensors)
    torch.testing.assert_close(
        arithmetic.weighted_sum(tensors, weights),
        scale * arithmetic.weighted_sum(tensors),
        atol=1e-4,
        rtol=1e-4,
    )
    first = tensors[0]
    torch.testing.assert_close(arithmetic.weighted_sum([first, arithmetic.negate(first)]), torch.zeros(2, 3))
    torch.testing.assert_close(arithmetic.negate(arithmetic.negate(first)), first)


@settings(max_examples=60, deadline=None)
@given(vectors_strategy)
def test_cosine_matrix_properties(values):
    tensors = _as_tensors(values)
    matrix = arithmetic.cosine_similarity_matrix(tensors)
    assert matrix.shape == (len(tensors), len(tensors))
    assert bool(((matrix >= -1) & (matrix <= 1)).all())
    torch.testing.assert_close(matrix, matrix.T)
    for index, tensor in enumerate(tensors):
        expected = 1.0 if bool((tensor != 0).any()) else 0.0
        assert float(matrix[index, index]) == pytest.approx(expected, abs=1e-4)


@settings(max_examples=60, deadline=None)
@given(vectors_strategy)
def test_ties_and_dare_limits(values):
    tensors = _as_tensors(values)
    torch.testing.assert_close(arithmetic.ties_merge(tensors[:1], density=1.0), tensors[0])
    stack = torch.stack(tensors)
    merged = arithmetic.ties_merge(tensors, density=1.0)
    nonzero = merged != 0
    # A merged entry takes the sign elected by the sum and never exceeds the largest agreeing magnitude.
    assert bool((torch.sign(merged[nonzero]) == torch.sign(stack.sum(dim=0))[nonzero]).all())
    assert bool((merged.abs() <= stack.abs().max(dim=0).values + 1e-6).all())
    torch.testing.assert_close(
        arithmetic.dare_merge(tensors, drop_rate=0.0), arithmetic.weighted_sum(tensors)
    )


def test_ties_elects_majority_sign():
    a = torch.tensor([[1.0, -2.0, 0.5]])
    b = torch.tensor([[3.0, 1.0, -0.5]])
    c = torch.tensor([[-1.0, -1.0, -0.1]])
    merged = arithmetic.ties_merge([a, b, c], density=1.0)
    # entry 0: sum +3 -> mean of agreeing {1, 3} = 2; entry 1: sum -2 -> mean of {-2, -1}; entry 2: sum -0.1.
    torch.testing.assert_close(merged, torch.tensor([[2.0, -1.5, -0.3]]))


def test_dare_rescales_in_expectation():
    vector = torch.ones(200, 50)
    merged = arithmetic.dare_merge([vector], drop_rate=0.75, generator=torch.Generator().manual_seed(0))
    assert set(merged.unique().tolist()) <= {0.0, 4.0}
    assert float(merged.mean()) == pytest.approx(1.0, abs=0.05)


def test_apply_to_origin_inverts_creation():
    origin, tuned = _tensor(3), _tensor(4)
    vector = create_task_vector(tuned, origin, "t", "t", "m")
    torch.testing.assert_close(arithmetic.apply_to_origin(origin, vector.values), tuned)
    with pytest.raises(ValueError, match="apply_to_origin"):
        arithmetic.apply_to_origin(origin, torch.zeros(2, 2))


def test_zero_vectors_are_left_out_of_similarity_and_transfer(tmp_path):
    from soft_prompts.transfer import vector_similarity
    from soft_prompts.vectors import UntrainedPromptWarning, create_task_vector, save_vector

    origin = torch.zeros(2, 3)
    for name, values in (("a", torch.ones(2, 3)), ("b", -torch.ones(2, 3)), ("flat", torch.zeros(2, 3))):
        save_vector(tmp_path, create_task_vector(values, origin, name, name, "m"))
    with pytest.warns(UntrainedPromptWarning, match="'flat' is zero"):
        names, matrix = vector_similarity(tmp_path, ["a", "flat", "b"])
    assert names == ["a", "b"]
    assert [value for row in matrix for value in row] == pytest.approx([1.0, -1.0, -1.0, 1.0])
    with pytest.warns(UntrainedPromptWarning):
        assert similarity_matrix(tmp_path).names == ("a", "b")
