-- Emergency-admission risk features of the living registered population as of the
-- reference date (macro risk_features_as_of; definitions there).
{{ risk_features_as_of(reference_date(),
    "select pseudo_id, birth_month, sex, imd_quintile from " ~ ref('dim_person')) }}
