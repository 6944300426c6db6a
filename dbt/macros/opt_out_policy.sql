{#-
  The national data opt-out policy for indirect-care marts (README: "National data opt-out").

  The national data opt-out applies to confidential patient information used for purposes
  beyond individual care (planning, research). The analysts' marts (dim_person and what is
  built on it: mart_risk, mart_segmentation, mart_inequalities) are such a use: the ICS holds
  the key that re-identifies them. So by default opted-out people are left out of them:

      national_data_opt_out_policy: exclude   (default)
      national_data_opt_out_policy: include   only with a documented IG decision that the
                                              marts are anonymised for their users (ICO code
                                              of practice) or a legal basis (s251) to which
                                              the opt-out does not apply

  Direct-care cohorts honour the opt-out whatever this says (int_cohort_population).
-#}
{% macro national_data_opt_out_policy() -%}
    {%- set policy = var('national_data_opt_out_policy', 'exclude') -%}
    {%- if policy not in ('exclude', 'include') -%}
        {{ exceptions.raise_compiler_error(
            "national_data_opt_out_policy must be 'exclude' or 'include', not '" ~ policy ~ "'") }}
    {%- endif -%}
    {{ return(policy) }}
{%- endmacro %}
