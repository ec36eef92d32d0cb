"""French (and a little English) text material for the demo world: it is data, not logic.

Templates use ``str.format`` placeholders filled by ``generate.py``:
``{brand}`` the brand as written, ``{product}`` one of the brand's products, ``{shop}`` where it
is sold, ``{staff}`` who sells it, ``{price}`` a price, ``{city}`` a French city,
``{int}`` an intensifier ("très ", "vraiment ", "trop " or nothing) and ``{emo}`` an emoji
matching the sentiment (or nothing). A template without ``{brand}`` yields a comment that talks
about the brand without naming it, as people do deep in a thread.

Every sentiment is carried by words a VADER-style French lexicon scores (nul, catastrophe,
déçu, honteux, excellent, bravo, parfait, merci…), so a rule-based scorer can recover it; the few
ironic lines are marked as such because no lexicon scorer will get them right.
"""

# -- people ---------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Jade", "Louise", "Sarah", "Julie",
    "Pauline", "Marine", "Claire", "Aurélie", "Céline", "Nathalie", "Isabelle", "Sandrine",
    "Sophie", "Valérie", "Sylvie", "Martine", "Monique", "Françoise", "Brigitte", "Hélène",
    "Élodie", "Laetitia", "Audrey", "Mélanie", "Anaïs", "Margaux", "Océane", "Zoé", "Lina",
    "Yasmine", "Fatou", "Nadia", "Karima", "Soline", "Maëlle", "Gwenaëlle", "Nolwenn", "Annick",
    "Thomas", "Lucas", "Hugo", "Louis", "Nathan", "Théo", "Maxime", "Antoine", "Julien",
    "Nicolas", "Guillaume", "Romain", "Sébastien", "Laurent", "Olivier", "Stéphane", "Philippe",
    "Patrick", "Thierry", "Christophe", "Frédéric", "Jérôme", "Éric", "Pascal", "Didier",
    "Bernard", "Alain", "Gérard", "Michel", "Yannick", "Erwan", "Loïc", "Ronan", "Kévin",
    "Mehdi", "Karim", "Samir", "Moussa", "Mamadou", "Youssef", "Bastien", "Florian", "Quentin",
    "Adrien", "Clément", "Baptiste", "Damien", "Cédric", "Fabrice", "Grégoire", "Arnaud",
]

NICKNAMES = [
    "LeBretonRâleur", "chti_gourmand", "MamieJo", "PapyGeek", "la_fourmi", "Titi75",
    "NounoursDu13", "Zaza", "Lulu44", "Biquette", "Le Marseillais", "kiki_la_ch'tite",
    "FibreMan", "Crouton", "Pépette", "Mimi Cracra", "Gros Minet", "Doudou974", "Bidouilleur",
    "Ptit Lu", "La Cigale", "Renard Malin", "Tonton Flingueur", "BabaCool", "Cocotte",
    "MissDressing", "Fashionista31", "LaCouturière", "Jojo Lapin", "Picsou", "Fanfan",
    "SuperMamie", "Ch'ti Geek", "Loulou", "Poulette", "Nono le Petit Robot", "Gaston",
    "Mistinguette", "PetitPois", "Gribouille", "Zébulon", "Caramel", "Chouquette",
]

# fmt: on

NICK_SUFFIXES = ["", "", "75", "69", "13", "33", "59", "44", "31", "29", "_35", " du 35"]

SPAM_AUTHORS = [
    "CheapWatches24",
    "crypto_gains_fr",
    "PromoLunettes",
    "Gagnant2026",
    "SEO Expert Pro",
    "bonnes-affaires-du-jour",
    "CasinoBonus",
    "ReplicaSacs",
]

# -- placeholders per sector ----------------------------------------------------------------

SECTOR_WORDS = {
    "bakery": {
        "shop": ["boutique", "boulangerie", "boutique de la gare", "boutique du centre"],
        "staff": ["vendeuse", "boulangère", "pâtissière"],
        "price": ["1,30 €", "1,45 €", "2,90 €", "4,50 €", "12 €"],
        "delivery": ["commande en ligne", "livraison à domicile", "commande click & collect"],
    },
    "telecom": {
        "shop": ["boutique", "agence", "boutique du centre commercial"],
        "staff": ["conseillère", "technicienne", "vendeuse"],
        "price": ["19,99 €", "29,99 €", "39,99 €", "9,99 €", "49 €"],
        "delivery": ["livraison de la box", "installation", "mise en service"],
    },
    "fashion": {
        "shop": ["boutique", "boutique des Halles", "boutique du centre"],
        "staff": ["vendeuse", "conseillère", "styliste"],
        "price": ["29 €", "49 €", "79 €", "119 €", "15 €"],
        "delivery": ["livraison", "commande en ligne", "livraison en point relais"],
    },
}

CITIES = [
    "Rennes",
    "Nantes",
    "Brest",
    "Quimper",
    "Lille",
    "Lyon",
    "Bordeaux",
    "Toulouse",
    "Marseille",
    "Montpellier",
    "Strasbourg",
    "Dijon",
    "Tours",
    "Angers",
    "Caen",
    "Rouen",
    "Grenoble",
    "Nice",
    "Paris",
    "Clermont-Ferrand",
    "Limoges",
    "Metz",
    "Reims",
    "Orléans",
]

INTENSIFIERS = ["", "", "très ", "vraiment ", "trop ", "super ", "tellement "]

EMOJI = {
    "positive": ["", "", " 👍", " ❤️", " 😍", " 😊", " 👌"],
    "negative": ["", "", " 😡", " 👎", " 😤", " 😠"],
    "neutral": ["", "", "", " 🙂"],
    "mixed": ["", "", " 🤷", " 😕"],
}

OPENERS = [
    "",
    "",
    "",
    "",
    "Franchement, ",
    "Perso, ",
    "Bonjour, ",
    "Alors ",
    "Honnêtement, ",
    "Pour info, ",
    "Hello ! ",
    "Moi je dis : ",
    "Du coup, ",
]

CLOSERS = {
    "positive": [
        "",
        "",
        "Je recommande !",
        "Rien à redire, parfait.",
        "Bravo à toute l'équipe.",
        "Top, merci !",
        "Nickel, bravo.",
        "Merci !",
        "Continuez comme ça, bravo.",
    ],
    "negative": [
        "",
        "",
        "C'est nul, je ne recommande pas du tout.",
        "Plus jamais, honteux.",
        "Honteux.",
        "La cata, vraiment nul.",
        "Déçu, vraiment déçu.",
        "Lamentable.",
        "Fuyez, c'est une arnaque !",
        "C'est nul.",
        "Le pire, c'est que ça ne change pas.",
    ],
    "neutral": ["", "", "", "À suivre.", "On verra bien.", "À noter."],
    "mixed": ["", "", "Bref, mitigé.", "Bof.", "Peut mieux faire."],
}

# -- comments by aspect and sentiment -------------------------------------------------------
# aspects: produit, service, prix, service client, livraison, publicité.
# "prix" is avoided in the texts themselves: French lexicons score it as a prize (positive).

COMMENTS = {
    ("produit", "positive"): [
        "La {product} de chez {brand}, c'est {int}excellent{emo}",
        "J'adore la {product} {brand}, qualité parfaite{emo}",
        "Testé la {product} hier : {int}génial, rien à redire{emo}",
        "{brand} fait vraiment du bon travail, la {product} est top{emo}",
        "Excellent produit, la {product} est {int}parfaite, je suis ravie{emo}",
        "Aucun problème avec ma {product} depuis des mois, bravo {brand}{emo}",
        "Super qualité, la {product} est {int}bonne{emo}",
        "Meilleure {product} du coin, merci {brand}{emo}",
        "Franchement la {product} est magnifique, bravo{emo}",
        "Je n'ai jamais été déçue par la {product} {brand}, un régal{emo}",
    ],
    ("produit", "negative"): [
        "La {product} de {brand} est {int}nulle, quelle déception{emo}",
        "Qualité en chute libre chez {brand}, la {product} est horrible, c'est honteux{emo}",
        "Ma {product} : catastrophe totale{emo}",
        "Je ne recommande pas du tout la {product} de {brand}, c'est mauvais{emo}",
        "Franchement mauvais, la {product} est décevante{emo}",
        "Déçu par la {product}, c'est nul{emo}",
        "La {product} {brand} ? Une honte, vraiment mauvaise{emo}",
        "Plus jamais de {product} chez {brand}, qualité lamentable{emo}",
        "La pire {product} que j'aie achetée, nul de chez nul{emo}",
    ],
    ("produit", "neutral"): [
        "La {product} de {brand} est disponible depuis lundi.",
        "Quelqu'un a déjà essayé la {product} {brand} ?",
        "{brand} sort une nouvelle {product} à {price}.",
        "La {product} existe aussi en édition limitée d'après le site.",
        "Ils ont changé quelque chose sur la {product}, quelqu'un sait quoi ?",
        "On m'a parlé de la {product} de {brand}, je testerai.",
        "La {product} {brand} sera en rayon à partir de jeudi.",
    ],
    ("service", "positive"): [
        "Accueil {int}agréable à la {shop} {brand}, {staff} souriante{emo}",
        "Toujours un plaisir de passer à la {shop}, merci à toute l'équipe{emo}",
        "Service impeccable chez {brand} à {city}, bravo{emo}",
        "La {staff} de {brand} m'a {int}bien conseillé, merci{emo}",
        "Personnel adorable et efficace{emo}",
        "Rien à redire sur l'accueil à {city}, parfait{emo}",
    ],
    ("service", "negative"): [
        "Accueil {int}désagréable à la {shop} {brand} de {city}{emo}",
        "Vingt minutes d'attente et une {staff} odieuse, inadmissible{emo}",
        "Le service chez {brand} est devenu lamentable{emo}",
        "Personnel désagréable, je ne remettrai plus les pieds à la {shop}{emo}",
        "Jamais vu un accueil aussi nul, honteux{emo}",
        "On n'est pas du tout bien reçu à la {shop} de {city}, c'est mauvais{emo}",
    ],
    ("service", "neutral"): [
        "La {shop} {brand} de {city} ouvre désormais à 7h, du lundi au samedi.",
        "{brand} ouvre une nouvelle {shop} à {city} en septembre.",
        "La {shop} sera fermée pour travaux la semaine prochaine.",
        "Horaires d'été : la {shop} {brand} ferme à 19h.",
        "La {shop} de {city} déménage au 12 rue de la République.",
    ],
    ("prix", "positive"): [
        "Tarifs {int}corrects chez {brand}, excellent rapport qualité-tarif{emo}",
        "À {price} c'est une super affaire{emo}",
        "Les promos {brand} sont top ce mois-ci, merci{emo}",
        "Abordable et bonne qualité, que demander de plus{emo}",
        "Pour {price}, franchement excellent{emo}",
    ],
    ("prix", "negative"): [
        "{price} la {product} chez {brand}, c'est du vol{emo}",
        "Tarifs {int}abusés, c'est scandaleux{emo}",
        "Encore une hausse des tarifs chez {brand}, honteux{emo}",
        "Beaucoup trop cher, c'est une arnaque honteuse{emo}",
        "{price} ? C'est une arnaque, lamentable{emo}",
    ],
    ("prix", "neutral"): [
        "La {product} passe à {price} chez {brand} à partir du 1er du mois.",
        "{brand} annonce des tarifs inchangés pour l'année.",
        "Le tarif affiché est de {price} en {shop}.",
        "Quelqu'un connaît le tarif de la {product} en ce moment ?",
        "La {product} est à {price} en {shop}, {price} en ligne.",
    ],
    ("service client", "positive"): [
        "Service client {brand} {int}efficace, problème réglé en dix minutes{emo}",
        "Merci au service client, remboursement en deux jours et conseiller adorable{emo}",
        "Réponse du service client en moins de 24h, bravo {brand}{emo}",
        "Le SAV de {brand} a été parfait avec moi{emo}",
        "Service client au top, merci{emo}",
    ],
    ("service client", "negative"): [
        "Service client {brand} {int}injoignable, trois semaines sans réponse, honteux{emo}",
        "Le service client de {brand} est une catastrophe, toujours aucun remboursement{emo}",
        "Appelé cinq fois, raccroché au nez à chaque fois, inadmissible{emo}",
        "SAV nul, personne ne répond aux mails{emo}",
        "Je ne recommande pas du tout leur service client, c'est lamentable{emo}",
        "Le pire service client que je connaisse, {brand} s'en moque{emo}",
    ],
    ("service client", "neutral"): [
        "Le service client de {brand} est joignable au 09 70 00 00 00 de 8h à 20h.",
        "Pour les réclamations il faut passer par le formulaire du site {brand}.",
        "{brand} a changé de numéro pour le service client.",
        "Le service client {brand} répond aussi par chat en semaine.",
    ],
    ("livraison", "positive"): [
        "{delivery} {int}rapide, reçu en deux jours, parfait{emo}",
        "Rien à redire sur la {delivery}, parfait{emo}",
        "{delivery} nickel, bravo {brand}{emo}",
        "{delivery} efficace, merci{emo}",
    ],
    ("livraison", "negative"): [
        "{delivery} en retard de dix jours, la cata, c'est nul{emo}",
        "Colis jamais arrivé, {brand} s'en fiche, honteux{emo}",
        "{delivery} ratée deux fois de suite, nul{emo}",
        "{delivery} catastrophique, quelle déception{emo}",
    ],
    ("livraison", "neutral"): [
        "La {delivery} est gratuite à partir de 50 € chez {brand}.",
        "Délai de {delivery} annoncé : 3 à 5 jours.",
        "La {delivery} est possible le samedi depuis ce mois-ci.",
    ],
    ("publicité", "positive"): [
        "La pub {brand} est {int}réussie, j'adore la musique{emo}",
        "Belle campagne {brand}, bravo aux créatifs{emo}",
        "Elle est top la nouvelle pub {brand}, magnifique{emo}",
        "Super pub, bien joué {brand}{emo}",
        "J'aime bien la pub {brand}, sympa et bien filmée{emo}",
    ],
    ("publicité", "negative"): [
        "La pub {brand} passe en boucle, insupportable{emo}",
        "Encore cette pub {brand} nulle à chaque coupure{emo}",
        "Pub ridicule, argent gaspillé{emo}",
    ],
    ("publicité", "neutral"): [
        "Vous avez vu la nouvelle pub {brand} à la télé ?",
        "La pub {brand} passait hier soir pendant le match.",
        "C'est qui l'actrice dans la pub {brand} ?",
        "La pub {brand} a été tournée à {city} apparemment.",
        "On voit la pub {brand} sur toutes les chaînes en ce moment.",
        "La chanson de la pub {brand}, c'est quoi le titre ?",
        "Le spot {brand} dure 30 secondes, il passe avant le journal de 20h.",
    ],
}

MIXED_COMMENTS = [
    "La {product} est bonne mais les tarifs ont bien augmenté{emo}",
    "Produit excellent mais service client nul, dommage{emo}",
    "Accueil sympa mais qualité décevante cette fois{emo}",
    "Bonne {product}, mais attente interminable à la {shop}{emo}",
    "Pas mal {brand}, mais trop cher pour moi{emo}",
    "La pub est jolie mais ça reste une {product} comme les autres{emo}",
    "J'aime bien {brand} mais la {delivery} est toujours en retard{emo}",
]

IRONIC_COMMENTS = [
    "Génial, encore une panne ce soir… merci {brand} 🙄",
    "Bravo {brand}, trois semaines pour une réponse, quel exploit 🙃",
    "Super, la {product} a encore augmenté. Formidable.",
]

# Orvéa-style product defect: the box that keeps rebooting (used for the defect brand's
# negative product comments once the defect has started).
DEFECT_COMMENTS = [
    "Ma {product} redémarre toute seule trois fois par soir, c'est nul{emo}",
    "Encore un redémarrage de la {product} en plein film, insupportable{emo}",
    "{product} qui reboot en boucle depuis la mise à jour, catastrophe{emo}",
    "Troisième {product} échangée, toujours les mêmes coupures, honteux{emo}",
    "Impossible de télétravailler, la {product} plante toutes les heures{emo}",
    "La {product} de {brand} redémarre sans arrêt, je ne recommande pas du tout{emo}",
    "Coupures à répétition avec la {product}, {brand} ne fait rien, lamentable{emo}",
    "Vous aussi votre {product} redémarre toute seule ? Insupportable{emo}",
]

# The recovering brand once its customer service is fixed.
RECOVERY_COMMENTS = [
    "Le nouveau service client {brand} m'a rappelé en 24h, bravo{emo}",
    "Remboursement reçu en deux jours, merci {brand}, ça change tout{emo}",
    "Franchement le service client s'est {int}amélioré, excellent accueil au téléphone{emo}",
    "Le chat du service client {brand} est efficace, problème réglé{emo}",
    "Enfin un service client qui répond ! Bravo {brand}{emo}",
]

REPLY_PREFIXES = [
    "@{parent} ",
    "@{parent} ",
    "{parent}, ",
    "+1 avec {parent}. ",
    "Pareil que {parent} : ",
    "Je rejoins {parent}. ",
    "Pas d'accord avec {parent}. ",
]

OFFICIAL_REPLIES = {
    "negative": [
        "Bonjour {parent}, nous sommes désolés de cette expérience. Pouvez-vous nous écrire en "
        "message privé avec votre numéro de commande ? Nous revenons vers vous rapidement.",
        "Bonjour {parent}, merci pour votre retour. Notre équipe va vous contacter pour trouver "
        "une solution.",
        "Bonjour {parent}, toutes nos excuses. Nous transmettons à l'équipe concernée.",
    ],
    "positive": [
        "Merci beaucoup {parent} pour ce gentil message, toute l'équipe est ravie !",
        "Merci {parent} ! À très bientôt.",
    ],
}

# The customer, answering the brand after it fixed its service.
THANKS_AFTER_FIX = [
    "Merci, problème réglé en 24h, bravo !",
    "Rappelée le lendemain et remboursée, merci beaucoup, excellent suivi 👍",
    "Parfait, merci pour la réactivité.",
]

# -- English and spam -----------------------------------------------------------------------

ENGLISH_COMMENTS = {
    "positive": [
        "Visited {brand} in {city} last week, great {product}, lovely staff!",
        "Love {brand}, excellent quality 👍",
    ],
    "negative": [
        "Terrible experience with {brand}, the {product} is awful.",
        "Worst customer service ever, {brand} never answered my emails.",
    ],
    "neutral": [
        "Does anyone know if {brand} ships to Belgium?",
        "Is the {brand} {product} available in English-speaking stores?",
    ],
}

SPAM_COMMENTS = [
    "Gagnez 500 € par jour depuis chez vous !!! Cliquez ici http://gains-faciles.example/",
    "Montres de luxe -80% livraison gratuite http://montres-pas-cheres.example/",
    "Super article, visitez mon site de casino en ligne http://casino-bonus.example/",
    "Nice post. Buy cheap followers at http://followers.example/",
    "Crédit rapide sans justificatif, réponse en 1h : http://credit-express.example/",
]

# -- posts ----------------------------------------------------------------------------------

POST_TITLES = {
    "news": [
        "{brand} ouvre une nouvelle {shop} à {city}",
        "{brand} : les nouveaux horaires d'ouverture",
        "{brand} annonce ses tarifs pour la rentrée",
        "{brand} lance la {product}",
        "Ce qu'il faut savoir sur la nouvelle {product} de {brand}",
        "{brand} recrute 40 personnes dans la région de {city}",
    ],
    "positive": [
        "On a testé la {product} de {brand} : une excellente surprise",
        "Pourquoi j'adore {brand}",
        "{brand} : notre coup de cœur du mois",
        "{product} {brand} : le test, et c'est parfait",
    ],
    "negative": [
        "{brand} : pourquoi je suis déçu",
        "{product} {brand} : notre test, une vraie déception",
        "Mauvaise expérience chez {brand} à {city}",
        "Les clients de {brand} en colère",
    ],
    "mixed": [
        "{brand} : du bon et du moins bon",
        "{product} {brand} : bien, mais…",
    ],
    "comparison": [
        "{brand} ou {other} : notre comparatif",
        "Match : {brand} contre {other}",
        "{brand} vs {other}, lequel choisir ?",
    ],
    "campaign": [
        "{brand} lance sa campagne TV « {campaign} »",
        "Publicité : {brand} mise sur la télévision avec « {campaign} »",
        "La pub « {campaign} » de {brand} fait parler",
        "Pub TV : ce que l'on sait de « {campaign} »",
    ],
    "defect": [
        "{product} : des abonnés se plaignent de redémarrages à répétition",
        "{brand} : la {product} redémarre toute seule, les clients excédés",
        "Redémarrages de la {product} : {brand} promet une mise à jour",
        "{product} instable : toujours pas de solution chez {brand}",
    ],
    "care_bad": [
        "{brand} : un service client injoignable, les clients excédés",
        "Commandes perdues, remboursements en attente : la colère monte contre {brand}",
    ],
    "care_fix": [
        "{brand} refond son service client : rappel sous 24h et remboursement immédiat",
        "Service client : {brand} a-t-il vraiment changé ? Notre enquête",
    ],
    "review": [
        "Avis sur {brand} ({city}) : {stars}",
        "{brand} – {product} : {stars}",
    ],
    "forum": [
        "{product} {brand}, vous en pensez quoi ?",
        "Problème avec {brand}, quelqu'un a une solution ?",
        "Retour d'expérience {brand}",
        "{brand} à {city}, des avis ?",
    ],
}

POST_SENTENCES = {
    "news": [
        "L'enseigne {brand} l'a annoncé ce matin dans un communiqué.",
        "La {shop} sera ouverte du lundi au samedi de 7h à 20h.",
        "Le tarif public est fixé à {price}.",
        "Selon la direction, l'objectif est de doubler le nombre de boutiques d'ici deux ans.",
        "Contactée, l'entreprise n'a pas souhaité commenter ses résultats.",
        "Les premiers clients sont attendus dès la semaine prochaine à {city}.",
    ],
    "positive": [
        "La {product} est parfaite, et l'accueil en {shop} est parfait.",
        "Franchement, rien à redire : c'est un sans-faute.",
        "Bravo à {brand}, qui prouve qu'on peut faire de la qualité sans se ruiner.",
        "Nos lecteurs sont ravis, et nous aussi.",
    ],
    "negative": [
        "La {product} nous a franchement déçus : la qualité n'est plus au rendez-vous.",
        "Plusieurs lecteurs nous ont écrit pour dénoncer un service lamentable.",
        "À {price}, c'est trop cher pour un résultat aussi médiocre.",
        "Nous ne recommandons pas {brand} pour le moment.",
    ],
    "mixed": [
        "La {product} est bonne, mais le tarif de {price} fait réfléchir.",
        "L'accueil est agréable, mais l'attente reste trop longue.",
    ],
    "comparison": [
        "Nous avons comparé {brand} et {other} sur la qualité, les tarifs et le service.",
        "Côté tarifs, {other} est un peu moins cher ; côté qualité, {brand} garde l'avantage.",
        "Verdict : chacun a ses points forts, à vous de choisir.",
    ],
    "campaign": [
        "Le spot de 30 secondes est diffusé sur les grandes chaînes pendant trois semaines.",
        "La campagne « {campaign} » a été tournée à {city} avec une musique originale.",
        "L'agence promet une présence massive aux heures de grande écoute.",
        "Reste à savoir si la publicité fera revenir les clients en {shop}.",
    ],
    "defect": [
        "Depuis plusieurs semaines, de nombreux abonnés signalent que leur {product} redémarre "
        "sans raison, parfois plusieurs fois par soirée.",
        "Sur les forums, la colère monte : coupures internet, télévision interrompue, télétravail "
        "impossible.",
        "Contacté, {brand} évoque « un nombre limité de cas » et promet un correctif.",
        "Les échanges de matériel ne semblent pas régler le problème.",
    ],
    "care_bad": [
        "Lignes saturées, courriels sans réponse, remboursements qui traînent : le service client "
        "de {brand} est pointé du doigt.",
        "Plusieurs clients parlent d'une expérience catastrophique.",
    ],
    "care_fix": [
        "{brand} a internalisé son service client et promet un rappel sous 24 heures.",
        "Les remboursements sont désormais traités immédiatement en {shop}.",
        "Les premiers retours de clients sont très positifs.",
    ],
    "review": [
        "{body}",
    ],
    "forum": [
        "Bonjour à tous, je voulais avoir vos retours sur {brand}.",
        "J'hésite à passer chez {brand}, des avis ?",
        "Je vous raconte mon expérience, et j'aimerais savoir si c'est pareil pour vous.",
    ],
}

STARS = {"positive": "★★★★★", "mixed": "★★★☆☆", "neutral": "★★★☆☆", "negative": "★☆☆☆☆"}

# Posts that name no brand (noise), by sector, with their neutral or positive comments.
NOISE_TITLES = {
    "bakery": [
        "Recette : la pâte à pain maison en 5 étapes",
        "Le levain, mode d'emploi",
        "La galette des rois : frangipane ou brioche ?",
        "Les meilleurs marchés du dimanche à {city}",
        "Farine T65 ou T80 : que choisir ?",
    ],
    "telecom": [
        "Fibre : comment tester son débit",
        "5G : ce qui change cette année",
        "Wi-Fi 7 : faut-il changer de routeur ?",
        "Cinq astuces pour économiser sur son forfait mobile",
        "Panne géante d'électricité à {city} : les réseaux tiennent bon",
    ],
    "fashion": [
        "Tendances automne : le retour du velours",
        "Comment entretenir ses vêtements en lin",
        "La seconde main séduit toujours plus",
        "Dressing capsule : 10 pièces pour toute l'année",
        "Fashion week : ce qu'il faut retenir",
    ],
}

NOISE_SENTENCES = [
    "Voici quelques conseils pratiques, testés et approuvés par la rédaction.",
    "N'hésitez pas à partager vos astuces en commentaire.",
    "Un sujet qui revient souvent dans vos messages.",
    "Nous avons interrogé plusieurs spécialistes à {city}.",
    "Un grand merci à tous nos lecteurs pour leurs retours.",
]

NOISE_COMMENTS = {
    "positive": [
        "Merci pour l'article, très utile{emo}",
        "Super conseils, j'essaie ce week-end{emo}",
        "Article au top, merci{emo}",
        "Intéressant, merci{emo}",
    ],
    "neutral": [
        "Et pour ceux qui habitent à {city} ?",
        "Quelqu'un a une autre astuce ?",
        "J'ai testé ce week-end.",
        "Je ne savais pas.",
    ],
    "negative": [
        "Article décevant, rien de nouveau{emo}",
        "Conseils nuls, ça ne marche pas du tout{emo}",
    ],
}

# Posts about places that share a brand's name: the brand queries must exclude them (NOT).
DECOY_POSTS = [
    (
        "Orvéa-les-Bains : la fête du village attire la foule",
        "Le petit village d'Orvéa-les-Bains a accueilli plus de 3 000 visiteurs ce week-end. "
        "Une belle réussite pour les bénévoles.",
    ),
    (
        "Randonnée : la pointe de Kervalec au lever du soleil",
        "Un sentier côtier magnifique mène à la pointe de Kervalec, à faire à marée basse.",
    ),
]
