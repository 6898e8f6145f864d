import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from jaxcourse import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_curves_labels_everything():
    ax = plots.curves({"train": [3, 2, 1], "test": [3, 2.5, 2]}, title="Loss", xlabel="epoch", ylabel="loss")
    assert ax.get_title() == "Loss" and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert [line.get_label() for line in ax.lines] == ["train", "test"]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]


def test_curves_rejects_mismatched_x_and_empty_input():
    with pytest.raises(ValueError, match="has 3 values"):
        plots.curves({"a": [1, 2, 3]}, title="t", xlabel="x", ylabel="y", x=[1, 2])
    with pytest.raises(ValueError):
        plots.curves({}, title="t", xlabel="x", ylabel="y")


def test_decision_boundary_evaluates_the_model_on_a_grid():
    seen = []

    def predict(grid):
        seen.append(grid.shape)
        return (grid[:, 0] > 0.5).astype(float)

    points = np.array([[0, 0], [1, 1]])
    ax = plots.decision_boundary(predict, points, np.array([0, 1]), title="XOR", resolution=20)
    assert seen == [(400, 2)] and ax.get_title() == "XOR"


def test_decision_boundary_wants_2d_points():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.decision_boundary(lambda g: g[:, 0], np.zeros((3, 3)), np.zeros(3), title="t")


def test_image_grid_lays_out_rows_and_titles():
    fig = plots.image_grid([np.zeros((4, 4, 1))] * 5, [str(i) for i in range(5)], suptitle="digits", columns=3)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == ["0", "1", "2", "3", "4"]
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid([np.zeros((2, 2))], ["a", "b"], suptitle="x")


def test_side_by_side_names_each_image():
    fig = plots.side_by_side({"before": np.zeros((4, 4)), "after": np.ones((4, 4, 3))}, "filter")
    assert [ax.get_title() for ax in fig.axes] == ["before", "after"]


def test_confusion_matrix_counts_pairs():
    ax, counts = plots.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], classes=3, title="cm")
    assert counts.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert ax.get_xlabel() == "predicted"
    with pytest.raises(ValueError):
        plots.confusion_matrix([0, 1], [0], classes=2, title="cm")


def test_graph_draws_every_node_and_edge():
    nodes = {"a": (0, 0, "a = 1"), "b": (1, 1, "b = 2"), "c": (2, 0, "c = a + b")}
    ax = plots.graph(nodes, [("a", "c"), ("b", "c")], "a small graph")
    assert ax.get_title() == "a small graph"
    assert sorted(t.get_text() for t in ax.texts if t.get_text()) == ["a = 1", "b = 2", "c = a + b"]
    arrows = [t for t in ax.texts if not t.get_text()]
    assert len(arrows) == 2
    reversed_ax = plots.graph(nodes, [("a", "c")], "backwards", reverse=True)
    arrow = next(t for t in reversed_ax.texts if not t.get_text())
    assert tuple(arrow.xy) == (0, 0), "reverse=True points from the result back to the input"
    plt.close("all")


def test_graph_rejects_unknown_nodes():
    with pytest.raises(ValueError, match="do not exist"):
        plots.graph({"a": (0, 0, "a")}, [("a", "b")], "broken")
