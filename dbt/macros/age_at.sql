{#-
  Age in completed years (age_at) or completed months (age_in_months) on `on_date` of
  someone born on `birth_date`, exact to the day.

  Completed months = month difference, less one when the day of the month has not yet
  been reached; completed years = completed months // 12. The age changes on the birthday
  itself (born 2001-11-02: 24 on 2026-11-01, 25 on 2026-11-02), and a leapling turns a year
  older on 1 March in common years, as in English law.

  Cohort rules use exact ages from int_person_ages (computed from the date of birth, which
  never reaches a table). Models that only hold `birth_month` (first of the month) get an
  age at most one month early during the birth month itself.
-#}
{% macro age_in_months(birth_date, on_date) -%}
    ((
        (extract(year from {{ on_date }}) * 12 + extract(month from {{ on_date }}))
        - (extract(year from {{ birth_date }}) * 12 + extract(month from {{ birth_date }}))
        - case when extract(day from {{ on_date }}) < extract(day from {{ birth_date }}) then 1 else 0 end
    )::integer)
{%- endmacro %}

{% macro age_at(birth_date, on_date) -%}
    (({{ age_in_months(birth_date, on_date) }} // 12)::integer)
{%- endmacro %}
