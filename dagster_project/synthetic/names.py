"""Embedded name frequency lists and a nickname map.

Lists are common English-language given names by birth cohort (ONS baby-name tables
give the shape: older people carry older names), common surnames of England with a
Zipf-like weight by rank, plus smaller lists for the larger minority groups of the
area (Eastern European and Portuguese for "White other", South Asian, Black African and
Caribbean, Chinese). These are common words, not personal data.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# Birth-cohort lists, most popular first (weight ~ 1 / rank^0.8 within a cohort).
FEMALE_COHORTS: dict[int, str] = {
    1900: """Margaret Joan Dorothy Mary Joyce Doris Irene Kathleen Patricia Betty Elsie
    Jean Edna Eileen Vera Barbara Phyllis Marjorie Sheila Ivy Olive Gladys Hilda Lilian
    Winifred Florence Audrey Violet Evelyn Muriel Beryl Ellen Annie Edith Iris Pauline
    Elizabeth Ethel Nora Freda Alice Mabel Rose Gwendoline Ada Mavis Norah Peggy Queenie
    Rita Sylvia Brenda Betty Constance Grace Lily Maud Nellie Rosemary Ruby Shirley
    Agnes Elsie Gertrude Lillian Marion Valerie Violet Eva Emily""",
    1945: """Susan Linda Christine Margaret Janet Patricia Carol Elizabeth Mary Anne Ann
    Jane Jean Valerie Pauline Barbara Sandra Gillian Maureen Brenda Sheila Kathleen
    Diane Lesley Wendy Jennifer Judith Lynn Angela Jacqueline Marilyn Helen Hilary
    Rosemary Julie Elaine Sylvia Irene Janice Shirley Carole Heather Denise Glenys
    Joan Joyce Josephine Veronica Frances Marion Teresa Yvonne Beverley Dawn Maria
    Sally Ruth Jill Rita Hazel Marian Pamela Doreen Eileen Brenda Joy Lorraine""",
    1965: """Sarah Claire Nicola Emma Lisa Joanne Michelle Helen Samantha Karen Amanda
    Rachel Louise Julie Clare Rebecca Sharon Victoria Caroline Kelly Tracey Donna Deborah
    Dawn Alison Jennifer Elizabeth Catherine Jacqueline Suzanne Angela Kerry Natalie
    Joanna Lucy Anna Katherine Paula Wendy Andrea Gillian Debbie Lorraine Jane Susan
    Tracy Mandy Melanie Kate Zoe Maxine Beverley Hayley Kirsty Jodie Leanne Lynsey Ruth
    Sally Anne Fiona Carol Diane Heidi Vanessa Joanne Emily Sonia""",
    1985: """Jessica Emily Sophie Laura Hannah Charlotte Amy Rebecca Lauren Chloe Sarah
    Katie Emma Megan Rachel Danielle Amber Georgia Bethany Holly Jade Abigail Samantha
    Stephanie Natasha Gemma Zoe Ellie Kirsty Hayley Jennifer Victoria Lucy Olivia Eleanor
    Alice Kayleigh Leah Naomi Jodie Lisa Stacey Shannon Alexandra Francesca Hollie Paige
    Robyn Nicole Catherine Kimberley Jasmine Amelia Grace Molly Harriet Zara Heather Kelly
    Natalie Aimee Rosie Kerry Louise Elizabeth Anna Beth Courtney""",
    2005: """Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella
    Sophie Ivy Freya Harper Willow Isabelle Daisy Charlotte Florence Phoebe Ruby Erin
    Matilda Millie Evelyn Sienna Rosie Scarlett Esme Eliza Imogen Elsie Jessica Chloe
    Maisie Lola Holly Alice Layla Bella Violet Aria Ellie Maya Luna Hallie Eva Lottie
    Emilia Darcie Thea Mila Ada Robyn Penelope Hannah Harriet Zara Maryam Aurora Orla
    Summer Lilly Sofia Ayla Iris Arabella Bonnie Edith Margot""",
}
MALE_COHORTS: dict[int, str] = {
    1900: """John William George James Thomas Arthur Frederick Albert Robert Charles Kenneth
    Ronald Leslie Harold Stanley Ernest Walter Dennis Eric Henry Alfred Frank Edward
    Sidney Reginald Peter Donald Harry Herbert Joseph Raymond Cyril Norman Douglas
    Richard Gordon Jack Leonard Victor Percy Fred Bernard Roy Wilfred Horace Geoffrey
    Sydney Cecil Edwin Samuel Hubert Archibald Francis Ralph Alan Derek Maurice Clifford
    Herbert Lewis Owen Stanley Ivor Ernest Jim Billy Wallace""",
    1945: """David John Michael Peter Robert Alan Brian Anthony Christopher Richard Paul
    Stephen Keith Terence Colin Roger Barry Graham Ian Malcolm Trevor Martin Geoffrey
    Kevin Philip Raymond Derek Dennis Gordon Clive Nigel Kenneth Andrew Roy Ronald Frank
    Patrick Neil Tony Mark Gary Mick Douglas Norman Donald William James Leslie Thomas
    George Charles Edward Bernard Francis Rodney Melvyn Gerald Howard Lawrence Maurice
    Stuart Vincent Dennis Jeffrey Glyn Victor Eric Alistair""",
    1965: """David Paul Mark Andrew Michael Stephen Richard Ian Christopher Robert Darren
    Lee Simon Gary Martin Jason Neil Steven Jonathan Matthew Craig Kevin Anthony Peter
    Daniel Stuart Wayne Dean Adam Timothy Philip Carl Nicholas Graham Shaun Russell Scott
    Jeremy Justin Alan Sean Barry Colin Julian Terry Keith Trevor Brian Dominic Duncan
    Gavin Glenn Jamie Jeffrey Karl Marcus Nathan Robin Ross Toby Warren Jon Damian Ben
    Kieran Mathew Tony Jeremy Edward""",
    1985: """Thomas James Daniel Matthew Joshua Luke Christopher Ryan Jack Adam Michael
    Benjamin Samuel Lewis Jordan Liam Callum Nathan Jamie Oliver Alexander Jake Connor
    Harry Kieran Joseph Ben Aaron Sam Scott William Robert Craig Dean David Andrew Bradley
    Ashley Mark Kyle Jacob Charlie George Joe Josh Edward Ross Reece Alex Max Dominic
    Tom Shane Sean Steven Paul Richard Stuart Marcus Jonathan Ricky Elliot Mitchell Henry
    Owen Billy Dale Carl Anthony Peter""",
    2005: """Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas
    Henry William Freddie Alfie Theo Archie Joshua James Lucas Isaac Teddy Finley Logan
    Ethan Max Mason Alexander Hunter Theodore Tommy Edward Samuel Joseph Reuben Sebastian
    Harrison Elijah Albie Jenson Rory Ronnie Toby Louie Benjamin Daniel Ezra Dylan Jude
    Frankie Luca Hugo Adam Elliot Albert Finn Arlo Ollie Bobby Riley Jaxon Grayson Caleb
    Stanley Ralph Jasper Louis Zachary Otis Kai""",
}
# Forenames for minority groups (one list per surname origin, all cohorts).
ORIGIN_FORENAMES: dict[str, tuple[str, str]] = {  # origin -> (female, male)
    "eastern_european": (
        "Anna Maria Katarzyna Agnieszka Magdalena Joanna Monika Ewa Aleksandra Natalia "
        "Kristina Inga Laura Daiva Ana Sofia Beatriz Ines Mariana Raluca Ioana Elena",
        "Piotr Krzysztof Tomasz Pawel Marcin Michal Jakub Lukasz Andrius Tomas Mantas "
        "Darius Joao Pedro Tiago Rui Nuno Andrei Mihai Bogdan Stefan Marek",
    ),
    "south_asian": (
        "Priya Anjali Aisha Fatima Sana Ayesha Nadia Sunita Pooja Neha Amira Zainab "
        "Shabana Rukhsana Kiran Simran Harpreet Nasreen",
        "Mohammed Ahmed Ali Hassan Imran Raj Sanjay Arjun Rahul Amir Omar Yusuf Bilal "
        "Ravi Vikram Harjit Tariq Faisal",
    ),
    "black": (
        "Grace Blessing Chioma Ngozi Abena Amara Adaeze Esther Funmilayo Precious Joy "
        "Favour Comfort Marcia Janelle Keisha",
        "Emmanuel Samuel Chinedu Kwame Oluwaseun Tunde Kofi Daniel Joseph Michael "
        "Ifeanyi Babajide Delroy Winston Tyrone Marlon",
    ),
    "east_asian": (
        "Mei Li Xin Ying Hui Jing Yan Wei Min Lan Fang Ling",
        "Wei Jun Hao Jie Ming Lei Tao Yang Chen Bo Feng Kai",
    ),
}

SURNAMES_ENGLISH = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson
Roberts Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke
Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker
Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths
Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards
Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell
Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes
Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham
Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders
Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson
Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes
Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods
Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed
Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop
Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne
Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss
McCarthy Chambers Drake Hale Kirby Blake Pritchard Lamb Norris Howe Goodwin Nash Slater
Sharp Bryant Bond Brennan Sanders Stephens Jordan Gordon Lambert Stevenson Middleton
Potter Howell Doyle Frost Moran Quinn Thornton Barber Cunningham Tucker Benson Abbott
Lynch Steele Wallace Hammond Connolly Rowe Fowler Hyde Buckley Archer Bentley Kemp
Smart Cartwright Rhodes Miles Glover Tomlinson Whitehouse Holt Norton Hardy Dennis
Burrows Cooke Manning Higgins Bolton Gough Charlton Pike Bull Hewitt Hodges Conway
Baxter Humphreys Hurst Sykes Davidson Lord Stanley Pollard Preston Randall Clements Dale
Crawford Dodd Garner Field Mann Lucas Todd Lyons Jennings Whittaker Harrison Chandler
Davey Farrell Moody Joyce Holden Skinner Vaughan Pugh Brookes Rowley Goddard Ashton
Leach Greenwood Wheeler Osborne Mellor Parkinson Storey Sheppard Nelson Hobbs Stubbs
Read Hope Fuller Boyle Barton Walters Finch Rushton Birch Colley Forster Leonard Ingram
Austin Cameron Humphries Gilbert Garrett Pratt Dyer Atkins Howells Daniels Chamberlain
Bradshaw Knowles Hancock Horton Briggs Swift Heath Banks Moon Whitfield Cullen Hilton
Tyler Dickinson Doherty Eaton Brady Welch Howarth Hutchinson Jarvis Nixon Buckley Naylor
Fitzgerald Townsend Copeland Flynn Brooke Gould Hurley Hughes Wong Sims Hart Barlow
Stokes Seymour Dickson Emery Knott Jefferson Lambert Pryce Greaves Tate Rowlands Sparks
Gale Kirk Hayward Walton Sullivan Cartwright Lang Ramsey Coates Bowen Bray Chadwick Ahmed
Wilkins Mills Kent Hartley Peacock Gallagher Hicks Rahman Weston Wade Clayton Jacobs
Payne Parkes Ashworth Dawes Gibbs Clayton Steward Bloomfield Blyth Gotts Howes Mace Pegg
Loades Cubitt Balls Bunn Chilvers Cushion Eke Futter Gedge Howlett Kerrison Lubbock
Rix Spurgeon Thrower Tungate Woodhouse Youngs Amies Bales Brett Dack Dye Goffin Hipkin
Larter Leeder Mayes Nobbs Orford Sayer Seago Thurston Wegg Alderton Beales Blowers
Catchpole Claxton Doy Frary Grimes Hammond Jex Knights Platten Riches Shreeve Symonds
Wymer Yaxley Bensley Cator Daynes Edrich Fenn Gaze Herring Kett Loveday Mallett Neave
Pymar Reeve Soanes Utting Waller""".split()

ORIGIN_SURNAMES: dict[str, str] = {
    "eastern_european": """Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski
    Zielinski Szymanski Wozniak Dabrowski Kozlowski Jankowski Mazur Kwiatkowski Kazlauskas
    Petrauskas Jankauskas Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins
    Sousa Fernandes Goncalves Popescu Ionescu Popa Horvath Novak""",
    "south_asian": """Patel Khan Singh Ahmed Ali Hussain Begum Shah Kaur Rahman Islam
    Uddin Miah Akhtar Iqbal Chowdhury Sharma Kumar Gupta Mistry Desai Joshi Mehta Bibi
    Mahmood Sandhu Gill Dhillon Hossain Rashid""",
    "black": """Okafor Adeyemi Mensah Okonkwo Osei Boateng Adebayo Owusu Nwosu Ogunleye
    Asante Eze Okoro Afolabi Campbell Francis Thomas Williams Johnson Grant Brown Clarke
    Mohamed Abdi Hassan""",
    "east_asian": """Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Lin
    Guo He Nguyen Tran Le Pham Kim Park Wong Chan Cheung""",
}

# group_16 ethnicity -> name origin (mixed groups draw English names)
ETHNICITY_ORIGIN = {
    "White - Any other White background": "eastern_european",
    "Asian or Asian British - Indian": "south_asian",
    "Asian or Asian British - Pakistani": "south_asian",
    "Asian or Asian British - Bangladeshi": "south_asian",
    "Asian or Asian British - Any other Asian background": "south_asian",
    "Black or Black British - African": "black",
    "Black or Black British - Any other Black background": "black",
    "Other Ethnic Groups - Chinese": "east_asian",
}
ORIGIN_SHARE_OF_GROUP = 0.8  # the rest of a minority group carries English names

NICKNAMES: dict[str, str] = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Margaret": "Maggie",
    "Richard": "Dick", "James": "Jim", "Michael": "Mike", "Christopher": "Chris",
    "Anthony": "Tony", "Stephen": "Steve", "Thomas": "Tom", "Joseph": "Joe",
    "Daniel": "Dan", "Matthew": "Matt", "Andrew": "Andy", "David": "Dave", "Peter": "Pete",
    "Samuel": "Sam", "Benjamin": "Ben", "Nicholas": "Nick", "Alexander": "Alex",
    "Edward": "Ted", "Charles": "Charlie", "Frederick": "Fred", "Albert": "Bert",
    "Kenneth": "Ken", "Ronald": "Ron", "Leonard": "Len", "Raymond": "Ray",
    "Gerald": "Gerry", "Timothy": "Tim", "Jonathan": "Jon", "Patrick": "Pat",
    "Philip": "Phil", "Terence": "Terry", "Gregory": "Greg", "Jacob": "Jake",
    "Joshua": "Josh", "Oliver": "Ollie", "Henry": "Harry", "Harold": "Harry",
    "Catherine": "Kate", "Katherine": "Kathy", "Jennifer": "Jenny", "Susan": "Sue",
    "Patricia": "Pat", "Deborah": "Debbie", "Rebecca": "Becky", "Victoria": "Vicky",
    "Alexandra": "Alex", "Samantha": "Sam", "Jacqueline": "Jackie", "Christine": "Chris",
    "Dorothy": "Dot", "Barbara": "Babs", "Pamela": "Pam", "Josephine": "Jo",
    "Jessica": "Jess", "Abigail": "Abbie", "Eleanor": "Ellie", "Charlotte": "Lottie",
    "Natalie": "Nat", "Amanda": "Mandy", "Judith": "Judy", "Kathleen": "Kath",
    "Valerie": "Val", "Gillian": "Gill", "Frances": "Fran", "Caroline": "Carol",
    "Nicola": "Nicky", "Mohammed": "Mo", "Zachary": "Zac", "Theodore": "Theo",
}

COHORT_STARTS = np.array(sorted(FEMALE_COHORTS))


def _weights(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _dedupe(words: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for w in words:
        seen.setdefault(w, None)
    return list(seen)


def forename_tables() -> dict[tuple[str, int | str], list[str]]:
    """Lists keyed by (sex, cohort start year) and (sex, origin)."""
    out: dict[tuple[str, int | str], list[str]] = {}
    for sex, cohorts in (("F", FEMALE_COHORTS), ("M", MALE_COHORTS)):
        for start, text in cohorts.items():
            out[(sex, start)] = _dedupe(text.split())
    for origin, (female, male) in ORIGIN_FORENAMES.items():
        out[("F", origin)] = _dedupe(female.split())
        out[("M", origin)] = _dedupe(male.split())
    return out


def surname_tables() -> dict[str, list[str]]:
    out = {"english": _dedupe(SURNAMES_ENGLISH)}
    for origin, text in ORIGIN_SURNAMES.items():
        out[origin] = _dedupe(text.split())
    return out


def assign_names(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Add given_name, family_name and alt_family_name (a surname used after marriage).

    people needs: sex (M/F), birth_year, ethnicity_group16 (may be null). Vectorised:
    one sampling call per (sex, cohort) and per origin.
    """
    n = people.height
    sex = people["sex"].to_numpy()
    birth_year = people["birth_year"].to_numpy()
    group = people["ethnicity_group16"].fill_null("").to_numpy()
    origin = np.array([ETHNICITY_ORIGIN.get(g, "english") for g in np.unique(group)])
    origin_of = dict(zip(np.unique(group), origin))
    person_origin = np.vectorize(origin_of.get, otypes=[object])(group) if n else group
    person_origin = np.where(rng.random(n) < ORIGIN_SHARE_OF_GROUP, person_origin, "english")

    # Cohort: nearest list at or before birth year, with a little blending into the next.
    cohort_i = np.searchsorted(COHORT_STARTS, birth_year, side="right") - 1
    cohort_i = np.clip(cohort_i + (rng.random(n) < 0.15), 0, COHORT_STARTS.size - 1)
    cohort = COHORT_STARTS[np.clip(cohort_i, 0, None)]

    tables = forename_tables()
    given = np.empty(n, dtype=object)
    for (s, key), names in tables.items():
        if isinstance(key, str):
            mask = (sex == s) & (person_origin == key)
        else:
            mask = (sex == s) & (cohort == key) & (person_origin == "english")
        k = int(mask.sum())
        if k:
            given[mask] = rng.choice(np.array(names), size=k, p=_weights(len(names), 0.8))

    surnames = surname_tables()
    family = np.empty(n, dtype=object)
    for origin_key, names in surnames.items():
        mask = person_origin == origin_key
        k = int(mask.sum())
        if k:
            family[mask] = rng.choice(np.array(names), size=k, p=_weights(len(names), 0.75))
    english = np.array(surnames["english"])
    alt = rng.choice(english, size=n, p=_weights(english.size, 0.75))
    alt = np.where(alt == family, np.roll(alt, 1), alt)
    return people.with_columns(
        given_name=pl.Series(given.astype(str)),
        family_name=pl.Series(family.astype(str)),
        alt_family_name=pl.Series(alt.astype(str)),
    )

