"""Each test file's tier, for `bash tools/test.sh -m <tier>` (markers registered in pytest.ini).

    unit        in one process, no page, no child process: the fast lane
    pages       pages headless through streamlit.testing (AppTest)
    processes   worker processes, the CLI in a child process, an HTTP service, an exported script
    browser     a real `streamlit run` driven by Debian's Chromium
    services    a real PostgreSQL or Ray cluster (any test that asks for one, whatever its file)
    learning    real training judged by what it learned
"""
TIERS = {
    "unit": ("test_compare", "test_config", "test_diagnose", "test_gpu_path", "test_i18n", "test_plots",
             "test_settings", "test_predict", "test_play", "test_store", "test_sweep", "test_tasks",
             "test_layout", "test_seats", "test_door", "test_palette", "test_sound", "test_words",
             "test_inside_words", "test_chinese_runs", "test_point_budget", "test_warm_start", "test_blobs",
             "test_lessons"),
    "pages": ("test_app_train", "test_app_resume", "test_chinese_pages", "test_compare_page", "test_datasets",
              "test_forms", "test_host_page", "test_hostile", "test_learn_page", "test_messages", "test_query",
              "test_upload_page_refusals", "test_sweep_words", "test_challenge_defaults", "test_text_results",
              "test_loss_tab", "test_run_names", "test_replay", "test_statuses", "test_own_columns", "test_own_text",
              "test_lesson_pages"),
    "processes": ("test_runner", "test_cli", "test_cli_runs", "test_serve", "test_export", "test_bench",
                  "test_room", "test_one_arch_entry", "test_hostile_files", "test_serve_hostile",
                  "test_series_use", "test_text_columns", "test_hidden_file"),
    "browser": ("test_browser_compare", "test_browser_host", "test_browser_learn", "test_browser_play",
                "test_browser_restart", "test_browser_train", "test_browser_upload", "test_browser_use",
                "test_browser_series", "test_browser_room", "test_browser_journeys",
                "test_browser_offline", "test_browser_access", "test_browser_labels", "test_browser_lesson"),
    "services": ("test_runner_matrix", "test_no_shared_disk"),
    "learning": ("test_train", "test_models", "test_inside", "test_series", "test_journeys"),
}
SERVICE_FIXTURES = {"postgres_server", "postgres_url", "ray_cluster"}
FILE_TIER = {stem: tier for tier, stems in TIERS.items() for stem in stems}


def tier_of(stem: str, fixtures) -> str | None:
    """A test's tier: services when it asks for a real service, else its file's (None for a file not
    listed here yet: tests/test_layout.py names it)."""
    return "services" if SERVICE_FIXTURES & set(fixtures) else FILE_TIER.get(stem)
