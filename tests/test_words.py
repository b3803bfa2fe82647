"""Every chart in words: the summary sentence follows the data, in the reader's language; the table holds
the chart's numbers."""
import numpy as np
import pandas as pd

from modelkit.plots import words


def curve(values, name="val_accuracy", seconds_per_step=0.5):
    return pd.DataFrame({"step": np.arange(1, len(values) + 1) * 10, "name": name, "value": values,
                         "seconds": np.arange(len(values)) * seconds_per_step * 10})


def test_a_rising_accuracy_says_from_where_to_where_and_that_it_still_rises():
    text = words.describe_curve(curve([0.4, 0.6, 0.8, 0.9, 0.97]), "val_accuracy", "en", what="Accuracy",
                                percent=True, active=True)
    assert "rose from 40% to 97%" in text and "still rising" in text and "20 s" in text


def test_a_falling_loss_that_has_levelled_off_says_so():
    values = [2.0, 1.0, 0.5, 0.31, 0.3, 0.3, 0.3, 0.3]
    text = words.describe_curve(curve(values, "loss"), "loss", "en", what="Loss", active=True)
    assert "fell from 2 to 0.3" in text and "levelling off" in text


def test_the_sentence_changes_with_the_data():
    a = words.describe_curve(curve([0.1, 0.5]), "val_accuracy", "en", what="A", percent=True)
    b = words.describe_curve(curve([0.1, 0.7]), "val_accuracy", "en", what="A", percent=True)
    assert a != b


def test_a_finished_curve_says_where_it_ended_instead_of_where_it_heads():
    text = words.describe_curve(curve([0.4, 0.9]), "val_accuracy", "en", what="A", percent=True)
    assert "ended at step 20" in text and "still" not in text


def test_no_points_yet_is_said_in_chinese_too():
    text = words.describe_curve(curve([]), "loss", "zh", what="损失")
    assert text.startswith("损失") and "还没有" in text


def test_the_curves_table_has_one_row_per_step_and_a_column_per_series():
    points = pd.concat([curve([1.0, 0.5, 0.25], "loss"), curve([0.3, 0.6, 0.9], "val_accuracy")])
    table = words.curves_table(points, ["loss", "val_accuracy"], {"step": "step", "loss": "Loss"})
    assert list(table.columns) == ["step", "Loss", "val_accuracy"]
    assert table["Loss"].tolist() == [1.0, 0.5, 0.25] and table["step"].tolist() == [10, 20, 30]


def test_the_confusion_matrix_names_its_most_common_mistake():
    m = [[5, 0, 0], [0, 3, 2], [1, 0, 4]]
    text = words.describe_confusion(m, ["a", "b", "c"], "en")
    assert "12 of 15" in text and "b taken for c (2 times)" in text


def test_a_perfect_confusion_matrix_names_no_mistake():
    assert "mistake" not in words.describe_confusion([[3, 0], [0, 2]], ["a", "b"], "en")


def test_the_confusion_table_has_the_counts_under_the_class_names():
    table = words.confusion_table([[5, 1], [2, 4]], ["cat", "dog"], "true class")
    assert table.columns.tolist() == ["true class", "cat", "dog"] and table["dog"].tolist() == [1, 4]


def test_the_boundary_says_what_share_of_the_plane_each_class_gets():
    z = np.zeros((10, 10))
    z[:, 7:] = 0.9   # the right 30 % of the plane is class 1
    text = words.describe_boundary({"z": z.tolist(), "n_classes": 2}, ["left", "right"], "en")
    assert "left 70%" in text and "right 30%" in text


def test_the_probabilities_name_the_answer_and_the_runner_up():
    text = words.describe_probabilities([0.05, 0.9, 0.05], ["0", "7", "1"], "en")
    assert "says 7 (90%)" in text and "Next comes" in text


def test_a_long_run_s_table_is_thinned_but_keeps_its_first_and_last_step():
    points = curve(np.linspace(2, 0.1, 1000), "loss")
    table = words.curves_table(points, ["loss"], {}, max_rows=100)
    assert len(table) <= 101 and table["step"].iloc[0] == 10 and table["step"].iloc[-1] == 10_000


def test_several_runs_are_named_best_first_whichever_way_is_better():
    runs = {"cnn": curve([0.5, 0.97]), "mlp": curve([0.5, 0.9])}
    assert "cnn 97%, mlp 90%" in words.describe_runs(runs, "val_accuracy", "en", what="A", percent=True)
    assert "mlp 90%, cnn 97%" in words.describe_runs(runs, "val_accuracy", "en", what="A", percent=True,
                                                     higher_is_better=False)


def test_a_sweeps_grid_says_how_many_cells_are_in_and_their_range_and_tables_them_by_row():
    grid = pd.DataFrame([[0.61, np.nan], [0.95, 0.7]], index=[32, 64], columns=[0.01, 0.1])
    assert words.describe_grid(grid, "en", what="Accuracy") == "Accuracy in 3 of 4 cells so far, from 0.61 to 0.95."
    assert "还没有" in words.describe_grid(grid * np.nan, "zh", what="准确率")
    table = words.grid_table(grid, "batch size / learning rate")
    assert table.columns.tolist() == ["batch size / learning rate", 0.01, 0.1] and table.iloc[:, 0].tolist() == ["32", "64"]


def test_a_chart_of_lines_is_read_from_its_figure_line_by_line():
    from modelkit.plots import figures

    fig = figures.series_figure([1.0, 2.0, 3.0], true_future=[4.0, 5.0], predicted_future=[4.5, 4.0],
                                labels={"history": "past", "true": "truth", "pred": "model"})
    text = words.describe_lines(fig, "en")
    assert text.startswith("past goes from 1 to 3") and "model goes from 4.5 to 4" in text
    table = words.lines_table(fig, "time step")
    assert table.columns.tolist() == ["time step", "past", "truth", "model"] and table["truth"].tolist()[3:] == [4.0, 5.0]


def test_pictures_and_points_are_counted_by_their_captions_and_classes():
    assert words.describe_pictures(["3", "8"], "en") == "2 pictures, captioned: 3, 8."
    assert words.describe_counts([0, 1, 1], ["cat", "dog"], "en") == "3 points: cat 1, dog 2."
    assert words.describe_counts([0, 0], ["a"], "zh", of="images").startswith("2 张图片")
    table = words.points_table([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], [0, 1, 1], ["cat", "dog"], ["class", "n", "x", "y"])
    assert table.to_dict("records")[1] == {"class": "dog", "n": 2, "x": 3.0, "y": 4.0}
