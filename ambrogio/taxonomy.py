"""The welfare taxonomy as data: categories, sub-categories, IT/EN labels and TUIR categories.

A sub-category's TUIR category is the letter of art. 51 c. 2 TUIR (DPR 917/1986) under which
a company may pay for it tax-free:

- f: education, training, recreation, social and health assistance open to employees and
  their families (physiotherapy, psychologist, sport, culture, courses, career guidance);
- f_bis: education and childcare of family members (nursery, after-school, summer camps,
  babysitting, school transport);
- f_ter: assistance to elderly or non-self-sufficient family members (carer, home care, day
  centre, transport of a disabled relative);
- f_quater: long-term-care and serious-illness insurance;
- none: not a welfare benefit (home services such as grocery delivery and cleaning).

A root category carries the TUIR category most of its sub-categories share, a hint for front
ends; filters use each service's own category, which is its sub-category's. Each
sub-category also has a ``Profile``: what a typical service of that kind looks like (price,
delivery, who it is for), which the demo generator draws from. Term ids are deterministic,
``record_id("taxonomy", slug)``, so every database holds the same ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ambrogio.enums import Delivery, PriceUnit, TargetGroup, TuirCategory
from ambrogio.folding import name_index
from ambrogio.ids import record_id

VOCABULARY = "ambrogio"

F = TuirCategory.ART51_F
F_BIS = TuirCategory.ART51_F_BIS
F_TER = TuirCategory.ART51_F_TER
F_QUATER = TuirCategory.ART51_F_QUATER
NONE = TuirCategory.NONE

ON_SITE, AT_HOME, ONLINE = Delivery.ON_SITE, Delivery.AT_HOME, Delivery.ONLINE
ELDERLY, CHILDREN, YOUTH = TargetGroup.ELDERLY, TargetGroup.CHILDREN, TargetGroup.YOUTH
FAMILIES, DISABLED = TargetGroup.FAMILIES, TargetGroup.DISABLED
CAREGIVERS, JOBSEEKERS, ADULTS = TargetGroup.CAREGIVERS, TargetGroup.JOBSEEKERS, TargetGroup.ADULTS


@dataclass(frozen=True, slots=True)
class Profile:
    """A typical service of a sub-category, in the Province of Lecco, in EUR."""

    unit: PriceUnit
    price_min: float
    price_max: float
    # The first mode is the usual one; the others are offered by some providers.
    delivery: tuple[Delivery, ...]
    target_groups: tuple[TargetGroup, ...]
    # Italian service names a provider would use.
    service_names: tuple[str, ...]
    min_age: int | None = None
    max_age: int | None = None
    # What the price covers when the unit alone does not say ("quota settimanale").
    price_note: str | None = None


@dataclass(frozen=True, slots=True)
class Term:
    slug: str
    label_it: str
    label_en: str
    tuir: TuirCategory
    parent: str | None
    position: int
    profile: Profile | None
    # Other names people give it in files and forms (``SYNONYMS``).
    synonyms: tuple[str, ...] = ()

    @property
    def id(self) -> uuid.UUID:
        return term_id(self.slug)

    @property
    def is_leaf(self) -> bool:
        return self.profile is not None


def term_id(slug: str) -> uuid.UUID:
    return record_id("taxonomy", slug)


@dataclass(frozen=True, slots=True)
class _Leaf:
    slug: str
    label_it: str
    label_en: str
    tuir: TuirCategory
    profile: Profile


def _p(
    unit: PriceUnit,
    price: tuple[float, float],
    delivery: tuple[Delivery, ...],
    groups: tuple[TargetGroup, ...],
    names: tuple[str, ...],
    ages: tuple[int | None, int | None] = (None, None),
    note: str | None = None,
) -> Profile:
    return Profile(unit, price[0], price[1], delivery, groups, names, ages[0], ages[1], note)


HOUR, SESSION, DAY = PriceUnit.HOUR, PriceUnit.SESSION, PriceUnit.DAY
MONTH, FLAT = PriceUnit.MONTH, PriceUnit.FLAT

# fmt: off
_TREE: tuple[tuple[str, str, str, TuirCategory, tuple[_Leaf, ...]], ...] = (
    ("assistenza-e-cura", "Assistenza e cura", "Care and home assistance", F_TER, (
        _Leaf("badante", "Badante", "Home carer (badante)", F_TER, _p(
            HOUR, (11, 17), (AT_HOME,), (ELDERLY, DISABLED),
            ("Badante a ore", "Ore aggiuntive di badante", "Sostituzione badante per ferie",
             "Assistenza notturna"))),
        _Leaf("assistenza-domiciliare", "Assistenza domiciliare", "Home care", F_TER, _p(
            HOUR, (20, 28), (AT_HOME,), (ELDERLY, DISABLED),
            ("Assistenza domiciliare anziani", "Aiuto nell'igiene personale",
             "Assistenza domiciliare ASA/OSS"))),
        _Leaf("infermiere-a-domicilio", "Infermiere a domicilio", "Home nursing", F_TER, _p(
            SESSION, (30, 50), (AT_HOME,), (ELDERLY, DISABLED),
            ("Prestazioni infermieristiche a domicilio", "Medicazioni a domicilio",
             "Prelievi a domicilio"))),
        _Leaf("centro-diurno", "Centro diurno per anziani", "Day centre for the elderly", F_TER, _p(
            DAY, (35, 65), (ON_SITE,), (ELDERLY,),
            ("Centro diurno integrato", "Frequenza al centro diurno",
             "Mezza giornata al centro diurno"), (65, None))),
        _Leaf("ricovero-di-sollievo", "Ricovero di sollievo", "Respite stay", F_TER, _p(
            DAY, (90, 140), (ON_SITE,), (ELDERLY, CAREGIVERS, DISABLED),
            ("Ricovero di sollievo in RSA", "Soggiorno temporaneo di sollievo"))),
        _Leaf("teleassistenza", "Teleassistenza", "Telecare", F_TER, _p(
            MONTH, (20, 45), (AT_HOME, ONLINE), (ELDERLY, CAREGIVERS),
            ("Telesoccorso con braccialetto", "Teleassistenza h24"))),
        _Leaf("assicurazione-ltc", "Assicurazione long term care", "Long-term-care insurance",
              F_QUATER, _p(
                  MONTH, (10, 40), (ONLINE,), (ADULTS, CAREGIVERS),
                  ("Polizza long term care", "Copertura per gravi patologie"), (18, 70))),
    )),
    ("infanzia-e-famiglia", "Infanzia e famiglia", "Childhood and family", F_BIS, (
        _Leaf("asilo-nido", "Asilo nido", "Nursery (0–3)", F_BIS, _p(
            MONTH, (450, 750), (ON_SITE,), (CHILDREN, FAMILIES),
            ("Asilo nido tempo pieno", "Asilo nido part-time", "Sezione primavera"), (0, 3))),
        _Leaf("doposcuola", "Doposcuola", "After-school care", F_BIS, _p(
            MONTH, (120, 250), (ON_SITE,), (CHILDREN, YOUTH),
            ("Doposcuola e aiuto compiti", "Spazio compiti pomeridiano"), (6, 14))),
        _Leaf("centro-estivo", "Centro estivo", "Summer camp", F_BIS, _p(
            FLAT, (100, 190), (ON_SITE,), (CHILDREN, YOUTH),
            ("Centro estivo", "Campus estivo sportivo", "Grest estivo"), (3, 14),
            "quota settimanale")),
        _Leaf("babysitting", "Babysitting", "Babysitting", F_BIS, _p(
            HOUR, (10, 14), (AT_HOME,), (CHILDREN, FAMILIES),
            ("Babysitting a domicilio", "Babysitter serale"), (0, 12))),
        _Leaf("consulenza-familiare", "Consulenza familiare", "Family counselling", F, _p(
            SESSION, (40, 70), (ON_SITE, ONLINE), (FAMILIES, ADULTS),
            ("Consulenza genitoriale", "Mediazione familiare", "Spazio ascolto per famiglie"))),
    )),
    ("salute-e-benessere", "Salute e benessere", "Health and wellbeing", F, (
        _Leaf("fisioterapia", "Fisioterapia", "Physiotherapy", F, _p(
            SESSION, (40, 65), (ON_SITE, AT_HOME), (ADULTS, ELDERLY),
            ("Seduta di fisioterapia", "Rieducazione posturale", "Terapia manuale",
             "Fisioterapia a domicilio"))),
        _Leaf("psicologo", "Psicologo", "Psychologist", F, _p(
            SESSION, (50, 80), (ON_SITE, ONLINE), (ADULTS, YOUTH, FAMILIES),
            ("Colloquio psicologico", "Psicoterapia individuale", "Sostegno psicologico online"))),
        _Leaf("logopedia", "Logopedia", "Speech therapy", F, _p(
            SESSION, (40, 55), (ON_SITE,), (CHILDREN,),
            ("Valutazione logopedica", "Trattamento logopedico"), (2, 14))),
        _Leaf("nutrizionista", "Nutrizionista", "Nutritionist", F, _p(
            SESSION, (50, 90), (ON_SITE, ONLINE), (ADULTS,),
            ("Visita nutrizionale", "Piano alimentare personalizzato"))),
        _Leaf("attivita-fisica-adattata", "Attività fisica adattata", "Adapted physical activity",
              F, _p(
                  MONTH, (30, 60), (ON_SITE,), (ELDERLY, DISABLED),
                  ("Ginnastica dolce over 65", "Corso AFA", "Ginnastica in acqua"), (60, None))),
    )),
    ("istruzione-e-formazione", "Istruzione e formazione", "Education and training", F, (
        _Leaf("ripetizioni", "Ripetizioni", "Private tutoring", F, _p(
            HOUR, (15, 25), (ON_SITE, AT_HOME, ONLINE), (CHILDREN, YOUTH),
            ("Ripetizioni di matematica", "Ripetizioni di inglese", "Aiuto compiti DSA"),
            (6, 19))),
        _Leaf("corsi-di-lingua", "Corsi di lingua", "Language courses", F, _p(
            SESSION, (15, 30), (ON_SITE, ONLINE), (ADULTS, YOUTH),
            ("Corso di inglese", "Corso di tedesco", "Italiano per stranieri",
             "Corso di spagnolo"))),
        _Leaf("corsi-di-informatica", "Corsi di informatica", "Computer courses", F, _p(
            FLAT, (120, 300), (ON_SITE, ONLINE), (ADULTS, ELDERLY),
            ("Informatica di base", "Smartphone e servizi digitali per over 60",
             "Excel avanzato"), note="corso completo")),
        _Leaf("scuola-di-musica", "Scuola di musica", "Music lessons", F, _p(
            MONTH, (60, 110), (ON_SITE,), (CHILDREN, YOUTH, ADULTS),
            ("Lezioni di pianoforte", "Corso di chitarra", "Propedeutica musicale"))),
    )),
    ("inclusione-lavorativa", "Inclusione lavorativa", "Work inclusion", F, (
        _Leaf("orientamento-al-lavoro", "Orientamento al lavoro", "Career guidance", F, _p(
            SESSION, (40, 70), (ON_SITE, ONLINE), (JOBSEEKERS, YOUTH, ADULTS),
            ("Colloquio di orientamento", "Percorso di orientamento professionale"), (16, None))),
        _Leaf("bilancio-di-competenze", "Bilancio di competenze", "Skills assessment", F, _p(
            FLAT, (250, 500), (ON_SITE, ONLINE), (ADULTS, JOBSEEKERS),
            ("Bilancio di competenze", "Bilancio di competenze per over 50"), (18, None),
            "percorso completo")),
        _Leaf("ricerca-lavoro", "Accompagnamento alla ricerca di lavoro", "Job search support", F,
              _p(SESSION, (30, 50), (ON_SITE, ONLINE), (JOBSEEKERS,),
                 ("Scrittura del curriculum", "Preparazione al colloquio di lavoro"), (16, None))),
        _Leaf("inserimento-lavorativo", "Inserimento lavorativo", "Supported employment", F, _p(
            MONTH, (150, 350), (ON_SITE,), (DISABLED, JOBSEEKERS),
            ("Tirocinio di inclusione", "Laboratorio socio-occupazionale",
             "Percorso di inserimento lavorativo"), (16, None))),
    )),
    ("tempo-libero-e-cultura", "Tempo libero e cultura", "Leisure and culture", F, (
        _Leaf("sport-e-palestra", "Sport e palestra", "Sport and gym", F, _p(
            MONTH, (35, 70), (ON_SITE,), (ADULTS, YOUTH, CHILDREN),
            ("Abbonamento palestra", "Corso di nuoto", "Yoga", "Pilates", "Arrampicata"))),
        _Leaf("teatro-e-spettacoli", "Teatro e spettacoli", "Theatre and shows", F, _p(
            FLAT, (15, 40), (ON_SITE,), (ADULTS, FAMILIES),
            ("Biglietto spettacolo", "Abbonamento stagione teatrale", "Cinema d'essai"),
            note="a biglietto")),
        _Leaf("musei-e-visite", "Musei e visite guidate", "Museums and guided tours", F, _p(
            FLAT, (8, 25), (ON_SITE,), (FAMILIES, ADULTS, ELDERLY),
            ("Visita guidata sul Lario", "Ingresso ai musei civici", "Escursione guidata"),
            note="a persona")),
        _Leaf("viaggi-e-soggiorni", "Viaggi e soggiorni", "Trips and holidays", F, _p(
            FLAT, (250, 900), (ON_SITE,), (FAMILIES, ELDERLY, ADULTS),
            ("Soggiorno climatico per anziani", "Vacanza in montagna per famiglie",
             "Gita culturale"), note="a persona")),
        _Leaf("corsi-e-laboratori", "Corsi e laboratori creativi", "Hobby courses and workshops",
              F, _p(FLAT, (60, 180), (ON_SITE,), (ADULTS, ELDERLY),
                    ("Corso di cucina", "Laboratorio di ceramica", "Corso di fotografia"),
                    note="corso completo")),
    )),
    ("mobilita-e-trasporti", "Mobilità e trasporti", "Mobility and transport", F_TER, (
        _Leaf("trasporto-disabili", "Trasporto disabili", "Transport for disabled people", F_TER,
              _p(FLAT, (15, 45), (AT_HOME,), (DISABLED, ELDERLY),
                 ("Trasporto con mezzo attrezzato", "Accompagnamento in carrozzina"),
                 note="a tratta")),
        _Leaf("accompagnamento-visite", "Accompagnamento a visite mediche",
              "Escort to medical appointments", F_TER, _p(
                  FLAT, (20, 40), (AT_HOME,), (ELDERLY, DISABLED),
                  ("Accompagnamento a visite ed esami", "Accompagnamento in ospedale"),
                  note="a viaggio")),
        _Leaf("trasporto-anziani", "Trasporto anziani", "Transport for the elderly", F_TER, _p(
            MONTH, (80, 160), (AT_HOME,), (ELDERLY,),
            ("Trasporto al centro diurno", "Trasporto sociale anziani"), (65, None))),
        _Leaf("trasporto-scolastico", "Trasporto scolastico", "School transport", F_BIS, _p(
            MONTH, (40, 80), (AT_HOME,), (CHILDREN,),
            ("Scuolabus", "Trasporto scolastico con accompagnatore"), (3, 14))),
    )),
    ("servizi-per-la-casa", "Servizi per la casa", "Home services", NONE, (
        _Leaf("spesa-a-domicilio", "Spesa a domicilio", "Grocery delivery", NONE, _p(
            FLAT, (5, 12), (AT_HOME,), (ELDERLY, DISABLED, FAMILIES),
            ("Spesa a domicilio", "Consegna farmaci e spesa"), note="a consegna")),
        _Leaf("pasti-a-domicilio", "Pasti a domicilio", "Meals on wheels", NONE, _p(
            FLAT, (7, 11), (AT_HOME,), (ELDERLY, DISABLED),
            ("Pasti caldi a domicilio", "Consegna pasti"), note="a pasto")),
        _Leaf("pulizie-domestiche", "Pulizie domestiche", "House cleaning", NONE, _p(
            HOUR, (14, 20), (AT_HOME,), (FAMILIES, ELDERLY),
            ("Pulizie domestiche", "Pulizie di fondo", "Colf a ore"))),
        _Leaf("lavanderia-e-stireria", "Lavanderia e stireria", "Laundry and ironing", NONE, _p(
            FLAT, (10, 25), (ON_SITE, AT_HOME), (FAMILIES, ELDERLY),
            ("Stireria con ritiro e consegna", "Lavanderia"), note="a cesto")),
        _Leaf("piccola-manutenzione", "Piccola manutenzione", "Handyman services", NONE, _p(
            HOUR, (25, 40), (AT_HOME,), (ELDERLY, FAMILIES),
            ("Piccole riparazioni domestiche", "Montaggio mobili", "Manutenzione del verde"))),
    )),
)
# fmt: on

# What people write instead of a term's slug or labels, in Italian and English: a job for the
# service ("fisioterapista"), a plural, an acronym ("CDI", "AFA"), a common service name. The
# import and the editing mutations accept each of them (``ambrogio.validation.category``),
# compared without case, accents and punctuation; no name may stand for two terms (checked
# when this module loads). A category slug or label always wins over a synonym.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "assistenza-e-cura": ("assistenza", "cura", "care"),
    "badante": (
        "badanti", "assistente familiare", "assistenti familiari", "badante convivente",
        "badante a ore", "home carer", "live-in carer", "carer", "caregiver professionale",
    ),
    "assistenza-domiciliare": (
        "assistenza a domicilio", "assistenza domiciliare anziani", "SAD",
        "servizio di assistenza domiciliare", "assistenza domiciliare integrata", "ADI", "ASA",
        "OSS", "operatore socio sanitario", "home assistance",
    ),
    "infermiere-a-domicilio": (
        "infermiere", "infermiera", "infermieri", "infermieristica domiciliare",
        "prestazioni infermieristiche", "servizio infermieristico", "prelievi a domicilio",
        "home nurse", "nurse", "nursing",
    ),
    "centro-diurno": (
        "centro diurno", "centri diurni", "centro diurno anziani", "centro diurno integrato",
        "CDI", "day centre", "day center",
    ),
    "ricovero-di-sollievo": (
        "sollievo", "ricoveri di sollievo", "ricovero temporaneo", "soggiorno di sollievo",
        "RSA sollievo", "respite care",
    ),
    "teleassistenza": ("telesoccorso", "telecontrollo", "personal alarm", "telecare service"),
    "assicurazione-ltc": (
        "long term care", "LTC", "polizza LTC", "polizza long term care",
        "assicurazione non autosufficienza", "polizza non autosufficienza", "LTC insurance",
    ),
    "infanzia-e-famiglia": ("infanzia", "famiglia", "childhood", "family"),
    "asilo-nido": (
        "nido", "asili nido", "asilo", "micronido", "micro nido", "nido d'infanzia",
        "nido famiglia", "sezione primavera", "nursery", "day nursery", "daycare",
    ),
    "doposcuola": (
        "dopo scuola", "dopo-scuola", "aiuto compiti", "spazio compiti", "after school",
        "afterschool", "after-school",
    ),
    "centro-estivo": (
        "centri estivi", "campo estivo", "campus estivo", "grest", "CRE", "oratorio estivo",
        "summer camps", "summer school",
    ),
    "babysitting": ("baby sitting", "babysitter", "baby sitter", "tata", "baby-sitter"),
    "consulenza-familiare": (
        "consultorio", "consultorio familiare", "mediazione familiare", "consulenza genitoriale",
        "sostegno alla genitorialita", "family counseling", "parenting support",
    ),
    "salute-e-benessere": ("salute", "benessere", "health", "wellbeing"),
    "fisioterapia": (
        "fisioterapista", "fisioterapisti", "fisioterapia a domicilio", "fisiokinesiterapia",
        "riabilitazione", "riabilitazione motoria", "physiotherapist", "physical therapy",
        "physio",
    ),
    "psicologo": (
        "psicologa", "psicologi", "psicologia", "psicoterapeuta", "psicoterapia",
        "sostegno psicologico", "supporto psicologico", "psychology", "psychotherapy",
        "psychotherapist",
    ),
    "logopedia": ("logopedista", "logopedisti", "speech therapist", "speech and language therapy"),
    "nutrizionista": (
        "dietista", "dietologo", "nutrizione", "biologo nutrizionista", "educazione alimentare",
        "dietitian", "nutrition",
    ),
    "attivita-fisica-adattata": (
        "AFA", "attivita motoria adattata", "ginnastica dolce", "ginnastica per anziani",
        "ginnastica over 65", "gentle exercise",
    ),
    "istruzione-e-formazione": ("istruzione", "formazione", "education", "training"),
    "ripetizioni": (
        "lezioni private", "ripetizioni scolastiche", "sostegno scolastico", "tutoraggio",
        "tutoring", "tutor",
    ),
    "corsi-di-lingua": (
        "corso di lingua", "corsi di lingue", "corso di lingue", "lingue straniere",
        "scuola di lingue", "corso di inglese", "italiano per stranieri", "language school",
    ),
    "corsi-di-informatica": (
        "corso di informatica", "informatica", "alfabetizzazione digitale", "computer",
        "digital skills", "IT courses",
    ),
    "scuola-di-musica": (
        "lezioni di musica", "corsi di musica", "corso di musica", "musica", "music school",
        "music",
    ),
    "inclusione-lavorativa": ("lavoro", "work", "employment"),
    "orientamento-al-lavoro": (
        "orientamento", "orientamento professionale", "orientamento lavorativo",
        "career counselling", "job guidance",
    ),
    "bilancio-di-competenze": ("bilancio competenze", "skills audit", "competenze"),
    "ricerca-lavoro": (
        "ricerca lavoro", "ricerca del lavoro", "ricerca attiva del lavoro",
        "accompagnamento al lavoro", "curriculum", "CV", "outplacement", "job search",
    ),
    "inserimento-lavorativo": (
        "inserimento lavorativo disabili", "tirocinio", "tirocini", "tirocinio di inclusione",
        "SIL", "servizio inserimento lavorativo", "borsa lavoro", "job placement",
    ),
    "tempo-libero-e-cultura": ("tempo libero", "cultura", "leisure", "culture"),
    "sport-e-palestra": (
        "sport", "palestra", "palestre", "piscina", "nuoto", "fitness", "yoga", "pilates", "gym",
    ),
    "teatro-e-spettacoli": (
        "teatro", "cinema", "spettacoli", "concerti", "theatre", "theater", "shows",
    ),
    "musei-e-visite": (
        "musei", "museo", "visite guidate", "visita guidata", "escursioni", "museums",
        "museum", "guided tours",
    ),
    "viaggi-e-soggiorni": (
        "viaggi", "soggiorni", "vacanze", "soggiorno climatico", "gite", "travel", "holidays",
    ),
    "corsi-e-laboratori": (
        "laboratori", "laboratorio", "laboratori creativi", "corsi creativi", "hobby",
        "workshop", "workshops", "corso di cucina",
    ),
    "mobilita-e-trasporti": ("mobilita", "trasporti", "trasporto", "transport", "mobility"),
    "trasporto-disabili": (
        "trasporto persone con disabilita", "trasporto per disabili", "trasporto disabile",
        "trasporto carrozzina", "trasporto sociale disabili", "disabled transport",
        "accessible transport",
    ),
    "accompagnamento-visite": (
        "accompagnamento visite", "accompagnamento a visite", "accompagnamento visite mediche",
        "accompagnamento in ospedale", "accompagnamento ospedale", "medical escort",
    ),
    "trasporto-anziani": (
        "trasporto per anziani", "trasporto sociale", "trasporto sociale anziani",
        "elderly transport",
    ),
    "trasporto-scolastico": (
        "scuolabus", "scuola bus", "trasporto alunni", "school bus",
    ),
    "servizi-per-la-casa": ("casa", "servizi domestici", "household services"),
    "spesa-a-domicilio": (
        "spesa", "consegna spesa", "consegna della spesa", "consegna farmaci",
        "grocery shopping", "shopping delivery",
    ),
    "pasti-a-domicilio": (
        "pasti", "consegna pasti", "pasti caldi", "pasti caldi a domicilio", "meal delivery",
        "meals",
    ),
    "pulizie-domestiche": (
        "pulizie", "pulizia casa", "pulizie di casa", "colf", "collaboratrice domestica",
        "collaboratore domestico", "cleaning", "housekeeping",
    ),
    "lavanderia-e-stireria": ("lavanderia", "stireria", "laundry", "ironing"),
    "piccola-manutenzione": (
        "manutenzione", "piccole riparazioni", "riparazioni", "tuttofare", "giardinaggio",
        "manutenzione del verde", "handyman",
    ),
}  # fmt: skip


def _flatten() -> tuple[Term, ...]:
    terms: list[Term] = []
    for root_position, (slug, label_it, label_en, tuir, leaves) in enumerate(_TREE, start=1):
        root_names = SYNONYMS.get(slug, ())
        terms.append(Term(slug, label_it, label_en, tuir, None, root_position, None, root_names))
        for position, leaf in enumerate(leaves, start=1):
            labels = (leaf.label_it, leaf.label_en)
            names = SYNONYMS.get(leaf.slug, ())
            terms.append(Term(leaf.slug, *labels, leaf.tuir, slug, position, leaf.profile, names))
    return tuple(terms)


# Roots first, each followed by its sub-categories: parents always precede their children.
TERMS: tuple[Term, ...] = _flatten()
ROOTS: tuple[Term, ...] = tuple(term for term in TERMS if term.parent is None)
LEAVES: tuple[Term, ...] = tuple(term for term in TERMS if term.is_leaf)
BY_SLUG: dict[str, Term] = {term.slug: term for term in TERMS}


def _names() -> dict[str, str]:
    """Every name of every term (folded) -> its slug: slugs and labels, then synonyms. An
    English label's bracketed part is optional ("Home carer (badante)" is also "Home carer")."""
    official: list[tuple[str, str]] = []
    for term in TERMS:
        for name in (term.slug, term.label_it, term.label_en):
            official.append((name, term.slug))
            if "(" in name:
                official.append((name.split("(")[0], term.slug))
    names = name_index(official, "taxonomy labels")
    synonyms = name_index(
        ((name, term.slug) for term in TERMS for name in term.synonyms), "taxonomy synonyms"
    )
    for key, slug in synonyms.items():
        if names.setdefault(key, slug) != slug:
            raise ValueError(f"taxonomy synonyms: {key!r} is already a name of {names[key]!r}")
    return names


# What a file or a form may call a category (folded, see ``ambrogio.folding``) -> its slug.
NAMES: dict[str, str] = _names()
