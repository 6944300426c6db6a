-- Pilot (neighbouring ICSs' direct-care outreach): falls prevention, as of the reference date.
--
-- Rules (NICE CG161 Falls in older people, 2013, and the World Guidelines for Falls
-- Prevention 2022: case-find people aged 65 and over with a fall in the last 12 months or
-- frailty, and offer a multifactorial falls-risk assessment; parameters in seed
-- project_parameters, project falls_prevention):
--   aged_65_or_over   aged 65 or over;
--   previous_fall     a fall coded (FALLS_COD) in the last 12 months;
--   frailty           moderate or severe frailty (int_frailty: eFI-style score or a coded
--                     frailty assessment, the more severe);
--   falls_risk_medication  a benzodiazepine issued in the last
--                     falls_risk_medication_lookback_months (BENZRX_COD: dm+d products
--                     of a public benzodiazepine code set, seed codelist_local_codes) -
--                     sedatives are falls-risk-increasing drugs (STOPPFall, Seppala et al.
--                     2021; NICE CG161 1.1.3 medication review). Z-drugs, antipsychotics,
--                     antidepressants and antihypertensives are not yet in the list;
--   eligible          aged 65 or over with a previous fall, moderate/severe frailty or
--                     falls-risk medication.
-- No exclusion: everyone 65+ at risk is offered the assessment.
-- clinical_priority: the number of risk factors met (each of fall, frailty, medication = 1).
with population as (
    select * from {{ ref('int_cohort_population') }}
    where age >= {{ project_param('falls_prevention', 'min_age', 'integer') }}
),

falls as (
    select pseudo_id, max(event_date) as latest_fall
    from {{ ref('int_observations_all') }}
    where measure = 'falls'
      and event_date > {{ project_months_before('falls_prevention', reference_date(), 'fall_lookback_months') }}
    group by pseudo_id
),

frail as (
    select pseudo_id, frailty_band, efi_style_score
    from {{ ref('int_frailty') }}
    where frailty_band in ('moderate', 'severe')
),

falls_risk_medication as (
    select medications.pseudo_id, max(medications.issue_date) as latest_issue,
        arg_max(codes.term, medications.issue_date) as latest_product
    from {{ ref('stg_gp__medications') }} as medications
    inner join {{ ref('int_codelist_codes') }} as codes
        on codes.code = medications.dmd_code and codes.cluster_id = 'BENZRX_COD'
    where medications.issue_date <= {{ reference_date() }}
      and medications.issue_date > {{ project_months_before('falls_prevention', reference_date(), 'falls_risk_medication_lookback_months') }}
    group by medications.pseudo_id
),

eligible as (
    select population.pseudo_id
    from population
    where population.pseudo_id in (select pseudo_id from falls) or population.pseudo_id in (select pseudo_id from frail)
       or population.pseudo_id in (select pseudo_id from falls_risk_medication)
),

evidence as (
    select pseudo_id, 'aged_65_or_over' as rule_id,
        'Aged ' || {{ project_param('falls_prevention', 'min_age', 'integer') }} || ' or over' as rule_description,
        cast(null as date) as evidence_date, cast(age as varchar) as evidence_value
    from population where pseudo_id in (select pseudo_id from eligible)
    union all
    select pseudo_id, 'previous_fall',
        'A fall recorded in the last ' || {{ project_param('falls_prevention', 'fall_lookback_months', 'integer') }} || ' months',
        latest_fall, cast(null as varchar)
    from falls where pseudo_id in (select pseudo_id from eligible)
    union all
    select pseudo_id, 'frailty', 'Moderate or severe frailty', cast(null as date),
        frailty_band || ' (eFI-style score ' || printf('%.2f', efi_style_score) || ')'
    from frail where pseudo_id in (select pseudo_id from eligible)
    union all
    select pseudo_id, 'falls_risk_medication',
        'A falls-risk-increasing drug (benzodiazepine) issued in the last '
            || {{ project_param('falls_prevention', 'falls_risk_medication_lookback_months', 'integer') }} || ' months',
        latest_issue, latest_product
    from falls_risk_medication where pseudo_id in (select pseudo_id from eligible)
)

select
    evidence.pseudo_id,
    population.practice_code,
    case when bool_or(evidence.rule_id = 'previous_fall') and bool_or(evidence.rule_id = 'frailty') then 'fall_and_frailty'
         when bool_or(evidence.rule_id = 'previous_fall') then 'previous_fall'
         when bool_or(evidence.rule_id = 'frailty') then 'frailty'
         else 'falls_risk_medication' end as eligibility_group,
    cast(count(*) filter (where evidence.rule_id in ('previous_fall', 'frailty', 'falls_risk_medication')) as double)
        as clinical_priority,
    {{ cohort_reason_columns() }},
    {{ reference_date() }} as reference_date
from evidence
inner join population on population.pseudo_id = evidence.pseudo_id
group by evidence.pseudo_id, population.practice_code
