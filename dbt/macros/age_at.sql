{#-
  Age in completed years on `on_date` of someone born on `birth_date`.

  Completed months = month difference, less one when the day of the month has not yet
  been reached; completed years = completed months // 12. This is right at birthdays
  (the age changes on the birthday itself, never at a year boundary) and for 29 February
  (a leapling turns a year older on 1 March in common years, as in English law).

  The warehouse keeps only `birth_month` (date of birth truncated to the first of the
  month, as pseudonymised NHS datasets do), so `age_at(birth_month, d)` is exact in
  completed years except during the birth month itself, when the person is counted as
  having had their birthday on the 1st (at most one month early).
-#}
{% macro age_at(birth_date, on_date) -%}
    (((
        (extract(year from {{ on_date }}) * 12 + extract(month from {{ on_date }}))
        - (extract(year from {{ birth_date }}) * 12 + extract(month from {{ birth_date }}))
        - case when extract(day from {{ on_date }}) < extract(day from {{ birth_date }}) then 1 else 0 end
    ) // 12)::integer)
{%- endmacro %}
