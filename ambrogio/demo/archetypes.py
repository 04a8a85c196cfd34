"""The kinds of provider found in a Lecco welfare catalogue, and the words their names use.

An archetype says how a provider is named, what legal form it has, which sub-categories it
offers and when it is open. Name templates take ``{coop}`` (an evocative name), ``{kids}`` (a
nursery name), ``{surname}``, ``{surname2}``, ``{doctor}`` ("Dott.ssa Giulia Colombo"),
``{place}`` (a local landmark), ``{saint}`` and ``{comune}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ambrogio.enums import ProviderKind

COOP = ProviderKind.SOCIAL_COOPERATIVE
ASSOCIATION = ProviderKind.ASSOCIATION
BUSINESS = ProviderKind.BUSINESS
THIRD_SECTOR = ProviderKind.THIRD_SECTOR
PUBLIC = ProviderKind.PUBLIC_BODY

# Office hours (OSM opening_hours syntax), reused by several archetypes.
OFFICE = (
    "Mo-Fr 08:30-12:30,14:00-18:00; Sa 09:00-12:00; PH off",
    "Mo-Fr 09:00-13:00,14:00-17:00; PH off",
    "Mo-Fr 08:30-12:30,14:00-18:00; PH off",
    "Mo-Fr 09:00-12:30,14:30-18:00; Aug 10-Aug 25 off; PH off",
)
ROUND_THE_CLOCK = ("24/7", "Mo-Su 00:00-24:00")


@dataclass(frozen=True, slots=True)
class Archetype:
    key: str
    weight: int
    kinds: tuple[ProviderKind, ...]
    names: tuple[str, ...]
    leaves: tuple[str, ...]
    hours: tuple[str, ...]
    description: str
    # Share of services offered free of charge (volunteers, public bodies).
    free_share: float = 0.0


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "care-cooperative", 16, (COOP,),
        ("Cooperativa Sociale {coop}", "{coop} Società Cooperativa Sociale",
         "Cooperativa Sociale {coop} Onlus"),
        ("badante", "assistenza-domiciliare", "infermiere-a-domicilio", "centro-diurno",
         "teleassistenza", "trasporto-anziani", "accompagnamento-visite", "pasti-a-domicilio"),
        OFFICE,
        "Cooperativa sociale che assiste anziani e persone non autosufficienti a {comune} "
        "e nei comuni vicini.",
    ),
    Archetype(
        "education-cooperative", 10, (COOP,),
        ("Cooperativa Sociale {coop}", "{coop} Cooperativa Sociale Educativa"),
        ("asilo-nido", "doposcuola", "centro-estivo", "babysitting", "consulenza-familiare",
         "ripetizioni", "trasporto-scolastico"),
        ("Mo-Fr 07:30-18:00; PH off", "Mo-Fr 14:00-18:30; PH off", *OFFICE[:2]),
        "Servizi educativi per bambini, ragazzi e famiglie a {comune}.",
    ),
    Archetype(
        "nursery", 8, (BUSINESS, COOP),
        ("Asilo Nido {kids}", "Nido d'Infanzia {kids}", "Micronido {kids}"),
        ("asilo-nido", "centro-estivo", "babysitting"),
        ("Mo-Fr 07:30-18:00; PH off", "Mo-Fr 07:30-16:30; Aug off; PH off",
         "Mo-Fr 08:00-16:00; PH off"),
        "Nido d'infanzia per bambini da 3 a 36 mesi a {comune}.",
    ),
    Archetype(
        "physiotherapy", 10, (BUSINESS,),
        ("Studio di Fisioterapia {surname}", "Centro Fisioterapico {place}",
         "Fisioterapia {surname} & {surname2}"),
        ("fisioterapia", "attivita-fisica-adattata", "nutrizionista"),
        ("Mo-Fr 08:00-20:00; Sa 08:00-12:00; PH off", "Mo-Fr 09:00-13:00,15:00-19:30; PH off"),
        "Studio di fisioterapia e riabilitazione a {comune}.",
    ),
    Archetype(
        "psychology", 8, (BUSINESS,),
        ("Studio di Psicologia {doctor}", "Centro di Psicoterapia {place}",
         "Studio Associato di Psicologia {surname} {surname2}"),
        ("psicologo", "consulenza-familiare", "logopedia"),
        ("Mo-Fr 09:00-20:00; PH off", "Mo,We,Fr 14:00-20:00; Tu,Th 09:00-13:00; PH off",
         "Tu,Th 15:00-19:00"),
        "Psicologia clinica, sostegno e psicoterapia a {comune}, anche online.",
    ),
    Archetype(
        "clinic", 5, (BUSINESS,),
        ("Poliambulatorio {place}", "Centro Medico {place}"),
        ("fisioterapia", "psicologo", "logopedia", "nutrizionista", "infermiere-a-domicilio"),
        ("Mo-Fr 08:00-19:00; Sa 08:00-12:30; PH off",),
        "Poliambulatorio privato a {comune}.",
    ),
    Archetype(
        "volunteers", 9, (ASSOCIATION,),
        ("Associazione Volontari {comune}", "Associazione {coop} ODV", "Gruppo Volontari {coop}"),
        ("trasporto-disabili", "accompagnamento-visite", "spesa-a-domicilio", "trasporto-anziani",
         "pasti-a-domicilio"),
        ("Mo-Fr 09:00-12:00; PH off", "Tu,Th 15:00-19:00", "Mo,We,Fr 09:00-11:30; PH off"),
        "Associazione di volontariato di {comune}: trasporti e piccoli aiuti a chi è solo.",
        free_share=0.35,
    ),
    Archetype(
        "sport", 8, (ASSOCIATION,),
        ("A.S.D. {coop}", "Polisportiva {comune}", "Centro Sportivo {place}"),
        ("sport-e-palestra", "attivita-fisica-adattata", "centro-estivo"),
        ("Mo-Fr 07:00-22:00; Sa 08:00-19:00; Su 09:00-13:00; PH off",
         "Mo-Fr 16:00-22:00; Sa 09:00-13:00"),
        "Associazione sportiva dilettantistica con corsi per tutte le età a {comune}.",
    ),
    Archetype(
        "culture", 7, (ASSOCIATION,),
        ("Associazione Culturale {coop}", "Accademia Musicale {place}",
         "Circolo Culturale {comune}"),
        ("scuola-di-musica", "teatro-e-spettacoli", "musei-e-visite", "corsi-e-laboratori",
         "corsi-di-lingua"),
        ("Mo-Fr 15:00-19:00; Sa 09:00-12:00", "Tu,Th 15:00-19:00", "We 20:30-23:00"),
        "Associazione culturale: corsi, spettacoli e visite sul territorio di {comune}.",
    ),
    Archetype(
        "training", 5, (BUSINESS,),
        ("Scuola di Lingue {coop}", "Centro Formazione {place}", "{surname} Formazione"),
        ("corsi-di-lingua", "corsi-di-informatica", "ripetizioni", "bilancio-di-competenze"),
        ("Mo-Fr 09:00-13:00,14:00-21:00; PH off", "Mo-Fr 14:00-21:00; Sa 09:00-12:00; PH off"),
        "Corsi di lingue, informatica e formazione per adulti e ragazzi a {comune}.",
    ),
    Archetype(
        "work-inclusion", 4, (THIRD_SECTOR, COOP),
        ("Centro per l'Orientamento {place}", "Consorzio {coop} Impresa Sociale",
         "Fondazione {coop} per il Lavoro"),
        ("orientamento-al-lavoro", "bilancio-di-competenze", "ricerca-lavoro",
         "inserimento-lavorativo"),
        ("Mo-Fr 09:00-13:00,14:00-17:30; PH off", *OFFICE[:1]),
        "Orientamento e inserimento lavorativo per giovani, adulti e persone fragili.",
    ),
    Archetype(
        "home-services", 6, (BUSINESS,),
        ("Pulizie {surname}", "{surname} Multiservizi", "Casa Facile {place}",
         "Lavanderia {place}"),
        ("pulizie-domestiche", "lavanderia-e-stireria", "piccola-manutenzione",
         "spesa-a-domicilio"),
        ("Mo-Fr 08:00-18:00; Sa 08:00-12:00; PH off", "Mo-Sa 08:30-12:30,15:00-19:00; PH off"),
        "Servizi per la casa a {comune} e dintorni.",
    ),
    Archetype(
        "transport", 3, (COOP, BUSINESS),
        ("{place} Trasporti Sociali", "Autoservizi {surname}", "Cooperativa {coop} Trasporti"),
        ("trasporto-disabili", "trasporto-scolastico", "accompagnamento-visite",
         "trasporto-anziani"),
        ("Mo-Fr 07:00-19:00; PH off", "24/7"),
        "Trasporti con mezzi attrezzati per persone con disabilità, anziani e scuole.",
    ),
    Archetype(
        "care-home", 4, (THIRD_SECTOR,),
        ("Fondazione {saint}", "RSA {saint}", "Casa di Riposo {saint}"),
        ("ricovero-di-sollievo", "centro-diurno", "infermiere-a-domicilio",
         "attivita-fisica-adattata"),
        ROUND_THE_CLOCK,
        "Residenza sanitaria assistenziale con centro diurno a {comune}.",
    ),
    Archetype(
        "travel", 2, (BUSINESS,),
        ("Viaggi {place}", "Agenzia Viaggi {coop}"),
        ("viaggi-e-soggiorni", "musei-e-visite"),
        ("Mo-Fr 09:00-12:30,15:00-19:00; Sa 09:00-12:30; PH off",),
        "Agenzia di viaggi: soggiorni, gite e visite guidate.",
    ),
    Archetype(
        "insurance", 2, (BUSINESS,),
        ("{surname} Assicurazioni", "Agenzia Assicurativa {place}"),
        ("assicurazione-ltc",),
        ("Mo-Fr 09:00-12:30,14:30-18:00; PH off",),
        "Agenzia assicurativa: coperture long term care e per gravi patologie.",
    ),
    Archetype(
        "municipality", 3, (PUBLIC,),
        ("Comune di {comune} – Servizi Sociali",),
        ("assistenza-domiciliare", "pasti-a-domicilio", "trasporto-anziani",
         "trasporto-scolastico"),
        ("Mo,We,Fr 09:00-12:30; Tu 14:30-17:30; PH off",
         "Mo-Fr 09:00-12:00; Th 14:00-17:00; PH off"),
        "Servizi sociali comunali di {comune}.",
        free_share=0.2,
    ),
)  # fmt: skip

COOP_NAMES = (
    "Il Girasole", "La Sorgente", "Arcobaleno", "Il Melograno", "La Quercia", "Il Sentiero",
    "L'Aquilone", "La Rondine", "Il Ponte", "La Tenda", "Il Faro", "Orizzonti", "Il Grappolo",
    "La Bussola", "Il Seme", "Mani Amiche", "Insieme", "Il Mosaico", "La Goccia", "Il Tiglio",
    "La Lanterna", "Il Cammino", "Germoglio", "Primavera", "Lario Solidale", "Valle Amica",
    "Il Castagno", "La Betulla", "Il Gabbiano", "La Meridiana", "Il Porto", "La Barca",
    "Nuovi Orizzonti", "Il Glicine", "Il Portico", "La Fontana", "L'Airone", "Il Noce",
)  # fmt: skip
KIDS_NAMES = (
    "Il Piccolo Principe", "Girotondo", "Le Coccinelle", "Il Trenino", "Bolle di Sapone",
    "Peter Pan", "Il Giardino dei Bimbi", "Mondo Piccino", "L'Isola che non c'è", "Pollicino",
    "Il Grillo Parlante", "La Tartaruga", "Gli Scoiattoli", "Il Bruco Verde", "Aquiloni",
)  # fmt: skip
SURNAMES = (
    "Colombo", "Brambilla", "Sala", "Bonfanti", "Mauri", "Rota", "Ghezzi", "Valsecchi",
    "Spreafico", "Panzeri", "Corti", "Crippa", "Riva", "Fumagalli", "Mandelli", "Cattaneo",
    "Villa", "Galbiati", "Redaelli", "Ripamonti", "Airoldi", "Gilardi", "Pozzi", "Tentori",
    "Rusconi", "Bonacina", "Castelnuovo", "Invernizzi", "Locatelli", "Rigamonti", "Anghileri",
    "Milani", "Arrigoni", "Maggi", "Bolis", "Cereda", "Gerosa", "Longhi", "Magni", "Beretta",
)  # fmt: skip
WOMEN = ("Giulia", "Chiara", "Francesca", "Sara", "Elena", "Laura", "Marta", "Silvia", "Paola")
MEN = ("Marco", "Luca", "Andrea", "Paolo", "Stefano", "Davide", "Matteo", "Giorgio", "Roberto")
PLACES = (
    "Lario", "Resegone", "Grigne", "Adda", "Brianza", "Valsassina", "San Martino", "Moregallo",
    "Legnone", "Piani d'Erna", "Monte Barro", "Valle San Martino", "Montevecchia", "Annone",
)  # fmt: skip
SAINTS = (
    "San Giuseppe", "Sacra Famiglia", "Santa Maria", "San Carlo", "San Nicolò",
    "Sant'Antonio", "San Vincenzo", "Madonna della Neve", "San Francesco",
)  # fmt: skip

STREET_KINDS = ("Via", "Via", "Via", "Via", "Viale", "Piazza", "Corso", "Largo")
STREETS = (
    "Roma", "Garibaldi", "Mazzini", "Cavour", "Alessandro Manzoni", "XXV Aprile", "IV Novembre",
    "Dante Alighieri", "Giuseppe Verdi", "Papa Giovanni XXIII", "del Risorgimento",
    "Vittorio Veneto", "della Repubblica", "San Francesco", "Alessandro Volta",
    "Guglielmo Marconi", "Leonardo da Vinci", "dei Mille", "Giacomo Matteotti", "Don Minzoni",
    "Cesare Battisti", "Nazario Sauro", "della Vittoria", "Antonio Stoppani", "dei Partigiani",
    "Aldo Moro", "della Pace", "Sant'Ambrogio", "delle Industrie", "Milano", "Como", "Bergamo",
    "Valsassina", "Provinciale", "per Lecco", "Fratelli Cairoli", "Padre Cristoforo",
)  # fmt: skip
ACCESSIBLE = (
    "Ingresso senza barriere",
    "Ascensore e bagno accessibile",
    "Rampa all'ingresso",
    "Parcheggio riservato vicino all'ingresso",
)
NOT_ACCESSIBLE = ("Accesso con gradini", "Primo piano senza ascensore")
# Second languages, weighted: English first; Romanian, Ukrainian and Spanish-speaking carers
# are common in home care.
LANGUAGES = (("en", 6), ("fr", 2), ("es", 2), ("ar", 2), ("ro", 2), ("uk", 2))
CARE_LANGUAGES = (("ro", 4), ("uk", 4), ("es", 3), ("en", 2), ("ar", 1))
CARE_LEAVES = frozenset({"badante", "assistenza-domiciliare", "pulizie-domestiche", "babysitting"})
