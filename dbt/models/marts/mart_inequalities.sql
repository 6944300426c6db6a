-- Inequalities in programme uptake and condition prevalence, as public health reports them
-- (PHE/OHID Fingertips conventions), as of the reference date: one row per measure,
-- dimension and group.
--
-- Measures and their denominators (each programme's eligible population): see
-- int_programme_uptake. Dimensions: imd_quintile and imd_decile (1 = most deprived), core20,
-- ethnicity_group, age_band, sex, pcn, and all (the whole population).
--
--   numerator, denominator   people
--   crude_rate               numerator / denominator, with a Wilson score 95% CI
--                            (crude_ci_lower, crude_ci_upper);
--   age_standardised_rate    directly age-standardised to the 2013 European Standard
--                            Population (seed european_standard_population_2013; its
--                            standardisation_band: 10-year bands to 64, 5-year 65-79, 80+: wider
--                            bands where groups are small, so a decile or an ethnic group of a
--                            small ICS still has someone in each),
--                            over the bands holding at least standardisation_min_band_share
--                            (5%) of the measure's eligible population ICS-wide, or where
--                            the measure covers at least standardisation_min_band_coverage
--                            (half) of its best-covered band's share of the people in the
--                            band (so a 65+ programme is standardised over 65-69 ... 80+, a
--                            75+ campaign not over the few 74-year-olds who turn 75 by its
--                            age reference date, and a prevalence over everyone keeps its
--                            80+ band, where dementia and heart failure live,
--                            although it holds under 5% of the population):
--                            sum_k w_k * numerator_k / denominator_k, w_k the
--                            ESP weights of those bands normalised to 1. 95% CI (ci_lower,
--                            ci_upper): normal approximation with the binomial variance of a
--                            standardised proportion, sum_k w_k^2 p_k (1 - p_k) / n_k (a
--                            proportion's variance: Dobson's Poisson method is for rates of
--                            rare events), clipped to [0, 1]. Null when the group has nobody
--                            in one of the bands (the rate would not be comparable) and for
--                            the age_band dimension (standardising within an age band is
--                            meaningless).
-- Small numbers are not suppressed here: suppression belongs to publication.
-- The gradient across IMD deciles (slope and relative index of inequality):
-- mart_inequalities_gradient.
{%- set dimensions = ['all', 'imd_quintile', 'imd_decile', 'core20', 'ethnicity_group', 'age_band', 'sex', 'pcn'] %}
with person_measures as (
    select
        measures.measure,
        measures.measure_kind,
        measures.in_numerator,
        esp.standardisation_band as age_band_5y,
        'all' as "all",
        cast(person.imd_quintile as varchar) as imd_quintile,
        cast(person.imd_decile as varchar) as imd_decile,
        case when person.is_core20 then 'Core20' else 'Not Core20' end as core20,
        person.ethnicity_group,
        person.age_band,
        person.sex,
        coalesce(person.pcn_code, 'unknown') as pcn
    from {{ ref('int_programme_uptake') }} as measures
    inner join {{ ref('dim_person') }} as person on person.pseudo_id = measures.pseudo_id
    inner join {{ ref('european_standard_population_2013') }} as esp
        on person.age between esp.min_age and esp.max_age
),

cells as (
    {%- for dimension in dimensions %}
    select
        measure,
        measure_kind,
        '{{ dimension }}' as dimension,
        coalesce(cast("{{ dimension }}" as varchar), 'unknown') as group_value,
        age_band_5y,
        count(*) as denominator,
        count(*) filter (where in_numerator) as numerator
    from person_measures
    group by all
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

standard as (
    select standardisation_band as age_band_5y, sum(esp_weight) as esp_weight
    from {{ ref('european_standard_population_2013') }}
    group by standardisation_band
),

-- everyone in each standardisation band, to measure how much of a band a measure covers
band_population as (
    select esp.standardisation_band as age_band_5y, count(*) as people
    from {{ ref('dim_person') }} as person
    inner join {{ ref('european_standard_population_2013') }} as esp
        on person.age between esp.min_age and esp.max_age
    group by esp.standardisation_band
),

measure_weights as (
    select
        bands.measure,
        bands.age_band_5y,
        standard.esp_weight / sum(standard.esp_weight) over (partition by bands.measure) as weight
    from (
        select
            person_measures.measure,
            person_measures.age_band_5y,
            count(*) as eligible,
            count(*) / any_value(band_population.people) as coverage
        from person_measures
        inner join band_population on band_population.age_band_5y = person_measures.age_band_5y
        group by person_measures.measure, person_measures.age_band_5y
        qualify eligible >= {{ param('standardisation_min_band_share') }} * sum(eligible) over (partition by measure)
             or coverage >= {{ param('standardisation_min_band_coverage') }} * max(coverage) over (partition by measure)
    ) as bands
    inner join standard on standard.age_band_5y = bands.age_band_5y
),

groups as (
    select measure, measure_kind, dimension, group_value,
           sum(numerator) as numerator, sum(denominator) as denominator
    from cells
    group by all
),

standardised as (
    select
        groups.measure,
        groups.dimension,
        groups.group_value,
        count(*) as bands,
        count(cells.denominator) as bands_with_people,
        sum(measure_weights.weight * cells.numerator / cells.denominator) as dsr,
        sum(power(measure_weights.weight, 2) * (cells.numerator / cells.denominator)
            * (1 - cells.numerator / cells.denominator) / cells.denominator) as dsr_variance
    from groups
    inner join measure_weights on measure_weights.measure = groups.measure
    left join cells
        on cells.measure = groups.measure and cells.dimension = groups.dimension
       and cells.group_value = groups.group_value and cells.age_band_5y = measure_weights.age_band_5y
    group by all
),

rates as (
    select
        groups.*,
        groups.numerator / groups.denominator as crude_rate,
        case when standardised.bands_with_people = standardised.bands and groups.dimension != 'age_band'
             then standardised.dsr end as age_standardised_rate,
        case when standardised.bands_with_people = standardised.bands and groups.dimension != 'age_band'
             then sqrt(standardised.dsr_variance) end as dsr_se
    from groups
    inner join standardised
        on standardised.measure = groups.measure and standardised.dimension = groups.dimension
       and standardised.group_value = groups.group_value
)

select
    measure,
    measure_kind,
    dimension,
    group_value as "group",
    numerator,
    denominator,
    round(crude_rate, 5) as crude_rate,
    -- Wilson score interval (Wilson EB. JASA 1927;22:209-12), z = 1.96
    round((crude_rate + 1.9208 / denominator
           - 1.96 * sqrt(crude_rate * (1 - crude_rate) / denominator + 0.9604 / power(denominator, 2)))
          / (1 + 3.8416 / denominator), 5) as crude_ci_lower,
    round((crude_rate + 1.9208 / denominator
           + 1.96 * sqrt(crude_rate * (1 - crude_rate) / denominator + 0.9604 / power(denominator, 2)))
          / (1 + 3.8416 / denominator), 5) as crude_ci_upper,
    round(age_standardised_rate, 5) as age_standardised_rate,
    case when age_standardised_rate is not null
         then round(greatest(age_standardised_rate - 1.96 * dsr_se, 0), 5) end as ci_lower,
    case when age_standardised_rate is not null
         then round(least(age_standardised_rate + 1.96 * dsr_se, 1), 5) end as ci_upper,
    dsr_se as age_standardised_rate_se,
    'proportion' as rate_unit,
    {{ reference_date() }} as reference_date
from rates
