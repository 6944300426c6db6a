-- COVID-19 vaccination and decline in the campaign of the reference date (int_covid_campaign),
-- one row per person with either, defined once for the COVID cohort's exclusions and the
-- uptake numerator (one scan of the events). Vaccinated: PRIMIS COVADM1-5_COD or
-- OS_COVID_VACC_GIVEN from the campaign start to its end; declined: PRIMIS COV1DECL_COD,
-- COV2DECL_COD or OS_COVID_VACC_DECL1/2 in the same window; never after the reference date.
with campaign as (
    select * from {{ ref('int_covid_campaign') }}
),

events as (
    select events.pseudo_id, events.cluster_id, events.event_date
    from ({{ get_observations(['COVADM1_COD', 'COVADM2_COD', 'COVADM3_COD', 'COVADM4_COD', 'COVADM5_COD', 'OS_COVID_VACC_GIVEN',
                               'COV1DECL_COD', 'COV2DECL_COD', 'OS_COVID_VACC_DECL1', 'OS_COVID_VACC_DECL2']) }}) as events
    cross join campaign
    where events.event_date between campaign.start_date and campaign.end_date
)

select
    events.pseudo_id,
    any_value(campaign.campaign_id) as campaign_id,
    max(events.event_date) filter (where events.cluster_id in ('COVADM1_COD', 'COVADM2_COD', 'COVADM3_COD', 'COVADM4_COD',
                                                               'COVADM5_COD', 'OS_COVID_VACC_GIVEN')) as vaccinated_date,
    max(events.event_date) filter (where events.cluster_id in ('COV1DECL_COD', 'COV2DECL_COD', 'OS_COVID_VACC_DECL1',
                                                               'OS_COVID_VACC_DECL2')) as declined_date
from events
cross join campaign
group by events.pseudo_id
