-- One row per living registered person on the reference date (int_registered_people: age,
-- ethnicity, practice and PCN, IMD 2019 and Core20, opt-out flags), for the analysts'
-- indirect-care marts: people with a national data opt-out are left out under the default
-- policy (macro national_data_opt_out_policy, dbt var national_data_opt_out_policy);
-- mart_risk, mart_segmentation and mart_inequalities build on this model.
select * from {{ ref('int_registered_people') }}
{% if national_data_opt_out_policy() == 'exclude' %}
where not has_national_data_opt_out
{% endif %}
