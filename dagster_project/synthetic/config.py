"""Configuration of the synthetic ICS: the run parameters and every rate, as data.

Everything a data engineer might want to tune (prevalences, activity rates, identity
messiness) lives here in one place, as plain dataclasses and dicts, so the modules that
use them stay free of magic numbers. Figures are rough England/Norfolk values (QOF
crude prevalence among the living at the reference date, see QOF_PREVALENCE;
HES/ECDS/SUS activity per head, NHS Digital data quality reports); they aim at
plausibility, not at reproducing any statistic exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT / "dbt" / "seeds"
IMD_CSV = SEEDS / "reference" / "imd2019_lsoa.csv"
CODELIST_CSV = SEEDS / "codelists" / "codelist_codes.csv"
LOCAL_CODELIST_CSV = SEEDS / "codelists" / "codelist_local_codes.csv"  # curated local clusters
ETHNICITY_CSV = SEEDS / "codelists" / "ethnicity_codes.csv"

NORFOLK_LADS = tuple(f"E070001{n}" for n in range(43, 50))  # E07000143..E07000149
WAVENEY_PREFIX = "Waveney"


@dataclass(frozen=True)
class GeneratorConfig:
    """Run parameters (the CLI flags)."""

    persons: int = 20_000
    seed: int = 42
    extracts: int = 3
    end_date: dt.date = dt.date(2026, 11, 1)
    messiness: float = 1.0
    out: Path = Path("data")

    def extract_dates(self) -> list[dt.date]:
        """K monthly extract dates ending at end_date (same day of month)."""
        dates = []
        for k in range(self.extracts - 1, -1, -1):
            months = self.end_date.year * 12 + self.end_date.month - 1 - k
            dates.append(dt.date(months // 12, months % 12 + 1, min(self.end_date.day, 28)))
        dates[-1] = self.end_date
        return dates


# --------------------------------------------------------------------------- identity
@dataclass(frozen=True)
class SourceMessiness:
    """Per-record probabilities at messiness 1.0 for one source (multiplied by X)."""

    nhs_missing: float
    nhs_invalid: float = 0.005
    nhs_wrong: float = 0.005
    name_typo: float = 0.03
    nickname: float = 0.03  # among records whose given name has a nickname
    surname_changed: float = 0.01
    names_swapped: float = 0.005
    dob_swapped: float = 0.005  # among records whose DOB day <= 12 and day != month
    stale_postcode: float = 0.05  # among records made after the person moved
    postcode_format: float = 0.10  # lower case / no space; not an identity error
    sex_unknown: float = 0.01
    duplicate: float = 0.0  # a second record for the same person in this source
    # Real-world identity errors (sources and reasoning in synthetic/identity.py)
    dob_typo: float = 0.003  # one digit of the date mistyped (a valid, different date)
    dob_transposed: float = 0.002  # two adjacent digits swapped (a valid, different date)
    dob_partial: float = 0.002  # only the year (1 Jan) or year and month (1st) known
    dob_missing: float = 0.001
    sex_wrong: float = 0.001  # the other sex recorded
    nhs_transposed: float = 0.002  # of nhs_invalid: two adjacent digits swapped (fails modulus 11)
    surname_part: float = 0.25  # among people with a double-barrelled surname: one part only
    initials_only: float = 0.005  # given name recorded as its initial
    stale_for_years: float = 0.10  # among movers: this source keeps the old postcode throughout


MESSINESS: dict[str, SourceMessiness] = {
    "gp": SourceMessiness(
        nhs_missing=0.005, name_typo=0.02, sex_unknown=0.0, duplicate=0.01, stale_postcode=0.03,
        # the GP record is traced against the national spine (PDS): few date/sex errors
        dob_typo=0.0005, dob_transposed=0.0, dob_partial=0.0, dob_missing=0.0, sex_wrong=0.0,
        stale_for_years=0.05,
    ),
    "acute": SourceMessiness(nhs_missing=0.02, name_typo=0.0, nickname=0.0,
                             surname_changed=0.0, names_swapped=0.0, surname_part=0.0,
                             initials_only=0.0),
    "talking_therapies": SourceMessiness(nhs_missing=0.07, name_typo=0.04),
    "community": SourceMessiness(nhs_missing=0.06, name_typo=0.04),
    "social_care": SourceMessiness(nhs_missing=0.25, name_typo=0.05, duplicate=0.01,
                                   dob_typo=0.006, dob_partial=0.004, dob_missing=0.002,
                                   initials_only=0.01),
}
MESSINESS_CAP = 0.6  # no rate goes beyond this however harsh X is


# --------------------------------------------------------------------------- population
# Single-year age weights within the IoD2019 bands (UK-like pyramid, ONS mid-2020 shape):
# knots (age, relative weight) interpolated linearly.
AGE_PYRAMID_KNOTS = ((0, 1.0), (10, 1.08), (20, 1.0), (30, 1.15), (40, 1.1), (55, 1.22),
                     (65, 1.05), (75, 0.85), (85, 0.42), (92, 0.17), (100, 0.02))
MAX_AGE = 104
# probability that a person is female by age (more women at old ages)
FEMALE_SHARE_KNOTS = ((0, 0.487), (40, 0.50), (65, 0.52), (80, 0.56), (90, 0.65),
                      (100, 0.80))

# Ethnicity (Norfolk 2021 census-like). Keys are group_16 categories of ethnicity_codes.csv.
ETHNICITY_SHARES = {
    "White - British": 0.885,
    "White - Any other White background": 0.045,
    "White - Irish": 0.005,
    "Asian or Asian British - Indian": 0.006,
    "Asian or Asian British - Bangladeshi": 0.002,
    "Asian or Asian British - Pakistani": 0.001,
    "Asian or Asian British - Any other Asian background": 0.006,
    "Other Ethnic Groups - Chinese": 0.003,
    "Black or Black British - African": 0.006,
    "Black or Black British - Caribbean": 0.001,
    "Black or Black British - Any other Black background": 0.001,
    "Mixed - White and Asian": 0.003,
    "Mixed - White and Black African": 0.002,
    "Mixed - White and Black Caribbean": 0.003,
    "Mixed - Any other mixed background": 0.003,
    "Other Ethnic Groups - Any other ethnic group": 0.004,
}
ETHNICITY_NOT_RECORDED = 0.03

# Postcode districts by LAD (plausible, not exhaustive).
POSTCODE_DISTRICTS = {
    "E07000143": ("NR19", "NR20", "IP24", "IP25", "IP26", "PE37", "NR17"),  # Breckland
    "E07000144": ("NR7", "NR8", "NR10", "NR12", "NR13", "NR6"),  # Broadland
    "E07000145": ("NR29", "NR30", "NR31"),  # Great Yarmouth
    "E07000146": ("PE30", "PE31", "PE32", "PE33", "PE34", "PE35", "PE36", "PE38"),  # KL&WN
    "E07000147": ("NR11", "NR21", "NR23", "NR24", "NR25", "NR26", "NR27", "NR28"),  # N Norf
    "E07000148": ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6", "NR7"),  # Norwich
    "E07000149": ("NR14", "NR15", "NR16", "NR18", "NR9", "IP20", "IP22"),  # South Norfolk
    "WAVENEY": ("NR32", "NR33", "NR34", "NR35", "IP21", "IP19"),
}
# Postcode units per LSOA, in proportion to the LSOA's population: a small-user postcode
# unit holds ~15 addresses (27.5M delivery points in 1.78M units, 1.55M of them small-user:
# ONS, "Postal geography", statistics.gov.uk/geography/postal_geog.asp; Ordnance Survey's
# postcode ontology: "an average of 15 addresses"), i.e. ~40 people at ~2.4 per household;
# an LSOA has a mean of ~1,500 residents or ~650 households (NHS Data Dictionary, "Lower
# Layer Super Output Area"), so ~40 units. The generator used 12 units per LSOA, ~150
# people per unit at 1.1M people, which made every postcode blocking rule of the linkage
# quadratic in the population (docs/linkage_performance.md).
PEOPLE_PER_POSTCODE = 40
MIN_POSTCODES_PER_LSOA = 12

# Practices: ~105 practices in ~17 PCNs at ICS scale.
PRACTICES_AT_SCALE = 105
PRACTICE_SCALE_PERSONS = 50_000
MIN_PRACTICES = 10
PRACTICES_PER_PCN = 6.2
DIRECT_CARE_APPROVED = 0.80
REGISTER_SAME_LAD = 0.92

# Timeline (annual rates)
MOVE_RATE = 0.08  # house moves per person-year
MOVE_SAME_LAD = 0.65
PRACTICE_CHANGE_ON_MOVE_OTHER_LAD = 0.85
PRACTICE_CHANGE_NO_MOVE = 0.01
MORTALITY_GOMPERTZ = (-11.0, 0.094)  # log annual hazard = a + b * age
HISTORY_YEARS = 7  # depth of coded history (screening needs 6 years)
ACTIVITY_HISTORY_YEARS = 3.5  # depth of acute/TT/community history in the first extract

NDOO_RATE = 0.04  # national data opt-out share of people with an NHS number
TYPE1_OPT_OUT_RATE = 0.025
TYPE1_OPT_OUT_CODE = "827241000000103"
PHONE_NONE = 0.12
EMAIL_NONE = 0.45


# --------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Condition:
    """A long-term condition: target crude prevalence and how it varies.

    prevalence: share of the eligible LIVING population at the reference date (all ages
      unless min_age) on the condition's QOF register (QOF_PREVALENCE); the flag is set a
      little higher where resolved codes take people off the register
      (clinical.calibrate_living_prevalence).
    age_knots: relative risk by age, interpolated.
    dep_ratio: relative risk in IMD quintile 1 vs 5 (geometric steps between).
    female_rr: relative risk for women vs men.
    cluster, include/exclude: which code list terms to draw diagnosis codes from.
    onset_within_years: diagnosed within this many years of the reference date (0: any
      time after onset_min_age).
    recurrence_share: share with a later episode coded again, on/after RECURRENCE_FROM.
    """

    name: str
    prevalence: float
    age_knots: tuple[tuple[int, float], ...]
    cluster: str
    dep_ratio: float = 1.2
    female_rr: float = 1.0
    min_age: int = 0
    include: str = ""
    exclude: str = "(?i)pregnan|childbirth|puerper|in remission|resolved|fetal|neonat|mother"
    comorbid: tuple[tuple[str, float], ...] = ()  # (earlier condition, risk multiplier)
    resolved_cluster: str = ""
    resolved_share: float = 0.0
    onset_min_age: int = 0
    onset_within_years: float = 0.0
    recurrence_share: float = 0.0


OLD = ((0, 0.0), (30, 0.05), (45, 0.3), (60, 1.0), (70, 2.0), (80, 3.2), (95, 3.6))
CONDITIONS: tuple[Condition, ...] = (
    Condition("hypertension", 0.153, ((0, 0), (18, 0.02), (30, 0.1), (45, 0.5), (55, 1.0),
              (65, 1.8), (75, 2.6), (85, 2.9), (100, 2.8)), "HYP_COD", dep_ratio=1.25,
              include="(?i)hypertens", exclude="(?i)pregnan|ocular|pulmonary|gestation|puerp|"
              "intracranial|portal|renovascular|child", resolved_cluster="HYPRES_COD",
              resolved_share=0.02, onset_min_age=25),
    Condition("diabetes_t1", 0.005, ((0, 0.3), (10, 1.0), (40, 1.0), (80, 0.7), (100, 0.5)),
              "DM_COD", dep_ratio=1.1, include="(?i)type 1|type I diab|insulin dependent",
              onset_min_age=2),
    Condition("diabetes_t2", 0.060, ((0, 0), (20, 0.03), (35, 0.2), (50, 0.7), (60, 1.2),
              (70, 1.9), (80, 2.0), (95, 1.6)), "DM_COD", dep_ratio=1.8, female_rr=0.75,
              include="(?i)type 2|type II diab", comorbid=(("hypertension", 1.8),),
              resolved_cluster="DMRES_COD", resolved_share=0.01, onset_min_age=25),
    Condition("asthma", 0.069, ((0, 0.3), (5, 1.0), (15, 1.1), (50, 1.0), (80, 0.9)),
              "AST_COD", dep_ratio=1.2, female_rr=1.2, include="(?i)asthma",
              exclude="(?i)exacerbation|attack|emergency|status|resolved", onset_min_age=3),
    Condition("copd", 0.019, ((0, 0), (35, 0.05), (45, 0.3), (55, 0.8), (65, 1.7), (75, 2.6),
              (85, 2.8), (100, 2.5)), "COPD_COD", dep_ratio=2.0,
              include="(?i)chronic obstructive|emphysema|bronchitis", onset_min_age=40),
    Condition("chd", 0.03, OLD, "QOF_CHD_COD", dep_ratio=1.5, female_rr=0.55,
              include="(?i)angina|myocardial infarction|coronary|ischaemic heart|ischemic",
              comorbid=(("diabetes_t2", 1.8), ("hypertension", 1.6)), onset_min_age=35),
    Condition("ckd", 0.043, ((0, 0), (18, 0.01), (40, 0.1), (60, 0.8), (70, 1.8), (80, 3.5),
              (95, 4.0)), "QOF_CKD_COD", dep_ratio=1.3, female_rr=1.3, min_age=18,
              include="(?i)stage 3|stage 4|stage 5",
              comorbid=(("diabetes_t2", 2.0), ("hypertension", 1.8)), onset_min_age=40),
    Condition("heart_failure", 0.011, ((0, 0), (40, 0.05), (60, 0.6), (70, 1.6), (80, 3.5),
              (95, 5.0)), "HF_COD", dep_ratio=1.5, female_rr=0.8, include="(?i)heart failure",
              comorbid=(("chd", 3.0), ("hypertension", 1.5)), onset_min_age=40),
    Condition("atrial_fibrillation", 0.022, ((0, 0), (40, 0.05), (60, 0.6), (70, 1.7),
              (80, 3.5), (95, 4.5)), "AFIB_COD", dep_ratio=1.0, female_rr=0.75,
              include="(?i)atrial fib", onset_min_age=40),
    Condition("stroke", 0.019, OLD, "STRK_COD", dep_ratio=1.4, include="(?i)infarct|stroke|"
              "cerebrovascular accident", comorbid=(("atrial_fibrillation", 2.5),
              ("hypertension", 1.6)), onset_min_age=30),
    Condition("cancer", 0.036, ((0, 0.02), (30, 0.1), (50, 0.6), (65, 1.5), (75, 2.4),
              (90, 2.6)), "C19CAN_COD", dep_ratio=1.0,
              include="(?i)malignant neoplasm|carcinoma", onset_min_age=20,
              onset_within_years=20),  # QOF CAN001 counts first diagnoses since 2003-04-01
    Condition("dementia", 0.0075, ((0, 0), (55, 0.03), (65, 0.2), (75, 1.0), (80, 2.5),
              (85, 5.0), (95, 9.0)), "DEM_COD", dep_ratio=1.2, female_rr=1.4,
              include="(?i)dementia|alzheimer", onset_min_age=55),
    Condition("depression", 0.138, ((0, 0), (16, 0.6), (25, 1.0), (45, 1.15), (65, 0.9),
              (85, 0.8)), "DEPR_COD", dep_ratio=1.7, female_rr=1.8, min_age=16,
              include="(?i)depress", resolved_cluster="DEPRES_COD", resolved_share=0.05,
              onset_min_age=14, recurrence_share=0.8),
    Condition("anxiety", 0.08, ((0, 0.1), (12, 0.6), (18, 1.0), (45, 1.0), (70, 0.7),
              (90, 0.6)), "ANXIETY_OS", dep_ratio=1.4, female_rr=1.7,
              include="(?i)anxiety|panic|phobi", comorbid=(("depression", 2.5),),
              onset_min_age=12),
    Condition("smi", 0.01, ((0, 0), (16, 0.5), (25, 1.0), (60, 1.0), (85, 0.7)),
              "SEV_MENTAL_COD", dep_ratio=2.2, include="(?i)schizo|bipolar|psychos",
              resolved_cluster="SMHRES_COD", resolved_share=0.03, onset_min_age=16),
    Condition("learning_disability", 0.006, ((0, 1.0), (60, 0.8), (80, 0.3), (100, 0.1)),
              "LD_COD", dep_ratio=1.4, female_rr=0.7, include="(?i)learning disab|"
              "intellectual|down syndrome|mental retard", onset_min_age=0),
    Condition("ndh", 0.05, ((0, 0), (18, 0.05), (35, 0.4), (55, 1.0), (70, 1.8), (90, 1.5)),
              "NDH_COD", dep_ratio=1.5, min_age=18, onset_min_age=30),
    Condition("immunosuppressed", 0.015, ((0, 0.3), (30, 0.8), (60, 1.3), (80, 1.5)),
              "IMMDX_COD", dep_ratio=1.0, include="(?i)immunodeficien|transplant|HIV|"
              "asplenia|immunosuppress", onset_min_age=0),
)
# Mutually exclusive: type 1 and type 2 diabetes; a person with diabetes cannot carry NDH.
NDH_EXCLUDES = ("diabetes_t1", "diabetes_t2")
EXCLUSIVE = {"diabetes_t2": ("diabetes_t1",), "ndh": NDH_EXCLUDES}
# QOF DEP004 reads the latest depression episode on or after this date
RECURRENCE_FROM = dt.date(2006, 4, 1)
# England's QOF registers (2024/25, recorded prevalence) over the living registered list at
# the reference date: register -> (prevalence, the denominator's minimum age). The
# generator's Condition.prevalence values are set so that the warehouse registers
# (int_condition_register) land on these; tests/unit/test_synthetic_prevalence.py checks it.
# Sources: NHS England, Quality and Outcomes Framework 2024-25 (prevalence, England); the
# figures for hypertension (15.3%), diabetes (6.5% of all ages = ~7.9% of 17+), CHD (3.0%),
# COPD (1.9%) and dementia (4.28% of people 65+, ~0.75% of all ages) as summarised on
# pcnd.info's England page; the others rounded from the QOF series (2023/24-2024/25),
# not re-verified offline against the 2024/25 tables.
QOF_PREVALENCE = {
    "hypertension": (0.153, 0), "diabetes": (0.079, 17), "asthma": (0.065, 0),
    "copd": (0.019, 0), "chd": (0.030, 0), "ckd": (0.043, 18), "heart_failure": (0.011, 0),
    "atrial_fibrillation": (0.022, 0), "stroke": (0.019, 0), "cancer": (0.036, 0),
    "dementia": (0.0075, 0), "depression": (0.135, 18), "smi": (0.010, 0),
    "learning_disability": (0.006, 0),
}

# Risk factors (shares among eligible people)
SMOKING = {"current": 0.13, "ex": 0.27}  # of adults; current x2 in IMD quintile 1 vs 5
SMOKING_DEP_RATIO = 2.0
OBESITY_SHARE = 0.30  # of adults with a BMI
FRAILTY_MIN_AGE = 65
FRAILTY_SHARES = {"mild": 0.35, "moderate": 0.15, "severe": 0.06}  # of 65+, rising with age
CAREHOME_85PLUS = 0.12
CAREHOME_DEMENTIA_75PLUS = 0.25  # people 75+ with dementia living in a care home
CARER_RATE = 0.05  # of adults 18-80
HYSTERECTOMY_50PLUS = 0.07  # total hysterectomy (cervix removed) among women 50+
SUBTOTAL_HYSTERECTOMY_40PLUS = 0.012  # subtotal: the cervix stays, screening continues
LLETZ_25_49 = 0.02  # local excision (LLETZ/cone) in the record: cervix kept, test of cure
TRANS_MEN_WITH_CERVIX = 0.0008  # share of people recorded male who keep a cervix

# Vaccinations and screening
FLU_UPTAKE_65 = 0.76
FLU_UPTAKE_AT_RISK = 0.42
FLU_DEP_RATIO = 0.8  # uptake in IMD quintile 1 relative to 5
FLU_SEASONS = 4
COVID_CAMPAIGNS = (  # (start, end, cluster for the dose code)
    ("2023-09-11", "2023-12-15", "COVADM4_COD"),
    ("2024-04-15", "2024-06-30", "COVADM5_COD"),
    ("2024-10-03", "2024-12-20", "OS_COVID_VACC_GIVEN"),
    ("2025-04-14", "2025-06-30", "OS_COVID_VACC_GIVEN"),
    ("2025-10-01", "2026-01-31", "OS_COVID_VACC_GIVEN"),
    ("2026-04-13", "2026-06-30", "OS_COVID_VACC_GIVEN"),
    ("2026-10-01", "2027-01-31", "OS_COVID_VACC_GIVEN"),
)
COVID_UPTAKE = 0.62
COVID_DECLINE = 0.04
CERVICAL_COVERAGE = 0.72
CERVICAL_DEP_RATIO = 0.82  # coverage in quintile 1 relative to 5
CERVICAL_HISTORY_YEARS = 16  # screening history depth: lapsed screeners keep their old tests
CERVICAL_NEVER_SHARE = 0.30  # of the not-covered, never screened (the rest lapsed)
CERVICAL_HPV_POSITIVE = 0.12  # HPV-positive share of primary HPV tests
CERVICAL_HPV_POSITIVE_LATEST = 0.03  # of latest tests: positives not yet re-tested at 12 months
CERVICAL_DECLINE = 0.06  # of the not-covered: a recorded decline in the last 3 years
CERVICAL_CEASED = 0.03  # of women 50-64 without a hysterectomy: ceased (not indicated)
CERVICAL_STATUS_CODES = 0.5  # of the overdue: a 'due' / 'not attended' status code (not a test)

# Programme codes (shares per person unless stated)
FLU_DECLINE = 0.05  # of the eligible not vaccinated in a season: a recorded decline
HOUSEHOLD_CONTACT_IMMUNO = 0.004  # adults coded as living with an immunocompromised person
ASTHMA_ORAL_STEROIDS = 0.18  # asthmatics with repeated oral steroids (2+ in 2 years)
# Benzodiazepines (falls-risk-increasing drugs, STOPPFall): PHE "Prescribed medicines
# review" (2019): 1.4 million adults in England (3.1%) had one or more benzodiazepines
# dispensed in 2017-18, rates rising with age. People aged 65+ at 1.5 times the adult rate
# and half of them on long-term repeats (PHE: about half of people on these medicines had
# been on them for 12 months or more) are ASSUMPTIONS standing in for the age and duration
# tables of the review. Issues: long-term users monthly over two years, others one or two
# issues in the last year.
BENZODIAZEPINE_YEAR = 0.031
BENZODIAZEPINE_OLDER_FACTOR = 1.5
BENZODIAZEPINE_LONG_TERM = 0.5
ASTHMA_ADMISSION = 0.03  # asthmatics with an asthma emergency admission in 2 years
SEVERE_OBESITY_CODE = 0.3  # of people with BMI 40+: a severe-obesity code too
RESIDENCE_CODE_RATE = 0.04  # adults with a (non care home) residence code in the history
CARE_HOME_LEFT = 0.003  # people 70+ with an old care home code then an own-home code (moved out)
FPG_TEST_RATE = 0.04  # adults 40+ with a fasting glucose test per year (NDH: 0.35)
GDM_HISTORY = 0.03  # women 22-50 with gestational diabetes in a past pregnancy
DPP_CODES = {"invited": 0.12, "referred": 0.10, "declined": 0.04}  # of NDH/FPG-NDH people
COVID_CONTRAINDICATED = 0.004  # of COVID-eligible people
EXTRA_RISK_GROUPS = (  # (cluster, term filter, share of the population, min age)
    ("CLD_COD", "(?i)cirrhosis|chronic hepatitis|liver disease", 0.006, 18),
    ("PNSPLEEN_COD", "(?i)splenectomy|asplenia|hyposplenism", 0.002, 0),
    ("CKD_COD", "(?i)nephrotic syndrome", 0.0004, 0),
    ("CNS_COD", "(?i)multiple sclerosis|motor neuron|parkinson|cerebral palsy|epilep", 0.01, 0),
)

# Observations per person-year
BP_RATE = {"base": 0.40, "hypertension": 1.3, "diabetes": 1.0, "ckd": 0.6}
BMI_RATE = {"base": 0.20, "diabetes": 0.9, "obese": 0.3}
HBA1C_RATE = {"diabetes": 2.0, "ndh": 0.9}
SMOKING_STATUS_RATE = 0.1


# --------------------------------------------------------------------------- activity
EMERGENCY_ADMISSION_RATE = 0.1  # per person-year overall (calibrated)
ELECTIVE_ADMISSION_RATE = 0.06
ED_ATTENDANCE_RATE = 0.30
OPA_RATE = 1.5
OPA_DNA = 0.07
OPA_CANC = 0.06
TT_REFERRAL_RATE = 0.10  # per person-year among people with depression/anxiety
COMMUNITY_RATE = {"base": 0.03, "65": 0.35, "80": 1.2, "frail": 2.0}
SOCIAL_CARE = {"severe_frail": 0.45, "moderate_frail": 0.18, "ld": 0.55, "other_65": 0.01,
               "dementia": 0.35}
ACUTE_PROVIDERS = {"RM1": 0.55, "RCX": 0.22, "RGP": 0.23}
CORRECTION_SHARE = 0.01  # records re-sent with a corrected field in a later increment

ACUTE_LAD_PROVIDER = {
    "E07000146": "RCX", "E07000145": "RGP", "WAVENEY": "RGP",
}

