"""Query-level features the local engine answers as Trino does (they were refused before): window
frames in RANGE and GROUPS, LATERAL, quantified comparisons, listagg, WITH RECURSIVE, JOIN ... USING,
GROUP BY DISTINCT, row.* and more. Each documented case named here must pass, not merely be refused;
the statements Trino rejects must fail with an error (their cases expect one). The cases and their
sources are in tests/conformance/cases/*.yaml."""

import pytest

from dw_platform.runtime.backends import Runtime
from tests.conformance.runner import judge, load_cases, local_query

ANSWERED = {
    "windows": [
        "groups_frame_peer_groups",
        "range_frame_numeric_offset",
        "range_frame_interval_offset_over_dates",
        "frame_offset_negative_is_error",
        "frame_offset_null_is_error",
        "ordered_aggregate_in_window_is_error",
    ],
    "aggregates": [
        "arbitrary_returns_non_null",
        "listagg_within_group",
        "listagg_grouped_by_other_order",
        "listagg_filter_all_rows_out_is_null",
        "listagg_overflow_is_error",
        "listagg_without_within_group_is_error",
        "listagg_of_integers_is_error",
        "array_agg_distinct_ordered",
        "array_agg_distinct_ordered_by_other_is_error",
        "group_by_distinct_removes_duplicate_sets",
        "group_by_distinct_over_element_and_sets",
        "grouping_bitmask_in_having",
    ],
    "grammar": [
        "correlated_values_row_is_error",
        "correlated_column_mixed_in_select_list_is_error",
        "correlated_limit_over_non_equality_is_error",
        "correlated_limit_over_equality_with_outer_filter",
        "correlated_group_by_limit_on_fixed_key",
        "correlated_outer_column_alone_in_select_list",
        "left_join_lateral_correlated_aggregation",
        "lateral_values_of_outer_column",
        "lateral_outer_columns_only_filtered_is_error",
        "correlated_grouping_key_is_error",
        "correlated_unnest_in_derived_table",
        "distinct_order_by_expression_not_selected_is_error",
        "unnest_join_on_other_than_true_is_error",
        "left_join_unnest_with_ordinality_unaliased",
        "greater_than_all_with_null_is_null",
        "some_and_any_over_values",
        "in_values_in_join_condition",
        "cte_visible_in_subquery_of_join_condition",
        "subquery_over_both_sides_of_outer_join_is_error",
        "recursive_cte_union_all",
        "recursive_cte_step_coerced_to_base_type",
        "recursive_cte_ten_steps_answer",
        "recursive_cte_depth_limit_is_error",
        "recursive_cte_without_column_aliases_is_error",
        "join_using_full_outer",
        "join_using_coerces_key_types",
        "star_over_lateral_lists_from_items_in_order",
        "row_constructor_fields_expanded",
        "row_column_fields_expanded_with_aliases",
        "values_row_keyword_spells_a_row_of_columns",
    ],
}


def test_every_named_case_exists() -> None:
    known = {(c.category, c.id) for c in load_cases()}
    missing = [(k, i) for k, ids in ANSWERED.items() for i in ids if (k, i) not in known]
    assert missing == []


@pytest.mark.parametrize("category", sorted(ANSWERED))
def test_query_features_are_answered_as_trino_answers(empty_warehouse: Runtime, category: str) -> None:
    cases = [c for c in load_cases() if c.category == category and c.id in ANSWERED[category]]
    outcomes = [judge(case, local_query(empty_warehouse.engine)) for case in cases]
    assert [(o.case.id, o.outcome, o.detail) for o in outcomes if o.outcome != "pass"] == []
