-- Condition flags, wide: one row per living registered person (dim_person), a boolean per
-- register, the multimorbidity count and the Cambridge Multimorbidity Score.
--   multimorbidity_count: number of long-term conditions on a register (counts_as_ltc in
--     seed register_rules; NDH and obesity are risk states and do not count);
--   cambridge_multimorbidity_score: sum of the general-outcome weights of the CMS
--     components present (Payne RA et al. CMAJ 2020;192:E107-14), over the 13 of its 20
--     conditions these registers cover; anxiety and depression are one component.
with people as (
    select pseudo_id from {{ ref('dim_person') }}
),

conditions as (
    select * from {{ ref('fct_conditions') }}
),

cms_components as (
    select pseudo_id, cms_component, max(cms_weight) as weight
    from conditions
    where cms_component is not null
    group by pseudo_id, cms_component
),

cms as (
    select pseudo_id, sum(weight) as cambridge_multimorbidity_score
    from cms_components
    group by pseudo_id
),

flags as (
    select
        pseudo_id,
        {%- for condition in ['hypertension', 'diabetes', 'ndh', 'asthma', 'copd', 'chd', 'ckd',
                              'heart_failure', 'atrial_fibrillation', 'dementia', 'depression',
                              'anxiety', 'smi', 'learning_disability', 'obesity', 'cancer', 'stroke'] %}
        bool_or(condition = '{{ condition }}') as has_{{ condition }},
        {%- endfor %}
        count(*) filter (where counts_as_ltc) as multimorbidity_count
    from conditions
    group by pseudo_id
)

select
    people.pseudo_id,
    {%- for condition in ['hypertension', 'diabetes', 'ndh', 'asthma', 'copd', 'chd', 'ckd',
                          'heart_failure', 'atrial_fibrillation', 'dementia', 'depression',
                          'anxiety', 'smi', 'learning_disability', 'obesity', 'cancer', 'stroke'] %}
    coalesce(flags.has_{{ condition }}, false) as has_{{ condition }},
    {%- endfor %}
    coalesce(flags.multimorbidity_count, 0) as multimorbidity_count,
    round(coalesce(cms.cambridge_multimorbidity_score, 0), 2) as cambridge_multimorbidity_score
from people
left join flags on flags.pseudo_id = people.pseudo_id
left join cms on cms.pseudo_id = people.pseudo_id
