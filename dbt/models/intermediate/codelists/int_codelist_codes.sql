-- The one combined code-list table (cluster_id -> codes) that every observation is selected
-- through (macro get_observations): the published lists (seed codelist_codes, provenance in
-- codelist_provenance) plus local clusters (seed codelist_local_codes): real SNOMED CT
-- concepts for gaps with no open official list, each with its public source in the seed's
-- `source` column, and the cervical lists curated by meaning from the GM-SDE stand-ins
-- (a reason per concept in seed codelist_curation). There are no placeholders: test
-- cluster_ids_exist fails on a cluster with no codes or a code that is not a concept id.
select distinct
    cluster_id,
    code,
    term,
    coding_system,
    'published' as provenance_status
from {{ ref('codelist_codes') }}

union all

select distinct
    cluster_id,
    code,
    term,
    coding_system,
    'local: ' || source as provenance_status
from {{ ref('codelist_local_codes') }}

union all

-- Derived: CKD stage 1-2 = PRIMIS CKD15_COD (stages 1-5) less the stage 3-5 codes
-- (CKD35_COD, QOF_CKD_COD). QOF removes a person from the CKD register when a stage 1-2
-- code follows the latest stage 3-5 code; no open stage 1-2 list exists.
select distinct
    'CKD12_DERIVED' as cluster_id,
    code,
    term,
    coding_system,
    'derived: CKD15_COD minus CKD35_COD and QOF_CKD_COD' as provenance_status
from {{ ref('codelist_codes') }}
where cluster_id = 'CKD15_COD'
  and code not in (
      select code from {{ ref('codelist_codes') }} where cluster_id in ('CKD35_COD', 'QOF_CKD_COD'))
