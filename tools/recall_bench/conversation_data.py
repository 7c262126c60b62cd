"""What the two people in a conversation talk about: life events, each a few
statements (every statement in several wordings), and the questions they
answer, labelled with the parts that hold the evidence.

An event's `parts` map a part name to its wordings; parts in `later` are said
in a later session than the others (cause and effect, follow-ups). A slot
value that is a dict fills several placeholders at once (a highlight and the
inference question that goes with it). {X} is the speaker, {Y} the other one.
Questions name people in the third person and, in many wordings, avoid the
evidence's words (synonyms, the general term for the specific one).
"""

from __future__ import annotations

from typing import Any

FIRST_NAMES = """Dana Marco Priya Tomas Aiko Bruno Leila Jonas Mei Rafael Ingrid Kofi Sofia Hugo Nadia Oskar
Yara Felix Amara Diego Hana Lucas Zoe Ravi Elena Samir Clara Mateo Freya Idris Noor Viktor""".split()
MONTHS = "January February March April May June July August September October November December".split()

Event = dict[str, Any]

EVENTS: list[Event] = [
    {
        "name": "pet",
        "slots": {
            "breed": ["beagle", "corgi", "border collie", "dachshund", "labrador", "greyhound", "whippet", "spaniel"],
            "pet": ["Biscuit", "Pepper", "Mochi", "Waffles", "Juniper", "Pickles", "Nacho", "Olive", "Bean", "Ziggy"],
        },
        "parts": {
            "a": ["I finally adopted a {breed} puppy from the shelter!", "Big news: we brought home a little {breed} this weekend.",
                  "So we got a dog! A {breed}, eight weeks old.", "I picked up a {breed} pup from a rescue on Saturday."],
            "b": ["We named him {pet}.", "His name is {pet}, after my grandpa's old friend.", "We're calling him {pet}, the kids chose it.",
                  "He answers to {pet} already, sort of."],
            "c": ["{pet} chewed through my favourite sneakers again.", "{pet} graduated from obedience school today!",
                  "Took {pet} to the vet for his shots, he was very brave.", "{pet} learned to open the fridge, send help."],
        },
        "later": ["c"],
        "questions": [
            ("single", "fact", ["What breed of dog did {X} adopt?", "Which kind of dog joined {X}'s household?"], ["a"]),
            ("single", "fact", ["What is the name of {X}'s dog?", "What did {X} call the new family pet?"], ["b"]),
            ("multi-hop", "same-session", ["What breed is {pet}?", "Which breed is the animal {X} named {pet}?"], ["a", "b"]),
            ("temporal", "when", ["When did {X} get a dog?", "When did {X} welcome a new four-legged family member?"], ["a"]),
            ("inference", "preference", ["Is {X} more of a dog person or a cat person?", "Would {X} appreciate a gift for a pet owner?"], ["a"]),
            ("multi-hop", "same-entity", ["What mischief or milestone did {X}'s dog get up to after the adoption?",
                                          "How is the puppy {X} adopted getting on?"], ["b", "c"]),
        ],
    },
    {
        "name": "trip",
        "slots": {
            "city": ["Lisbon", "Kyoto", "Marrakesh", "Reykjavik", "Oaxaca", "Tbilisi", "Hanoi", "Valparaiso", "Bergen", "Palermo"],
            "hl": [
                {"highlight": "food tour through the old markets", "hq": "Does {X} enjoy trying local food when travelling?"},
                {"highlight": "sunrise hike up the volcano", "hq": "Would {X} be up for an early-morning mountain walk?"},
                {"highlight": "night swim in the hot springs", "hq": "Would {X} like a spa weekend?"},
                {"highlight": "boat ride along the coast", "hq": "Would {X} enjoy a day out on the water?"},
                {"highlight": "tiny jazz bar near the harbour", "hq": "Would {X} enjoy an evening of live music?"},
            ],
            "mishap": ["lost my passport", "missed the last train back", "got food poisoning", "had my phone stolen",
                       "sprained a wrist on the cobblestones"],
        },
        "parts": {
            "a": ["Just got back from {city}!", "We spent ten days in {city}, it was unreal.", "I'm home from my trip to {city}.",
                  "Back from {city}, still jet-lagged."],
            "b": ["The best part was the {highlight}.", "Honestly the {highlight} made the whole trip.",
                  "My favourite moment was the {highlight}.", "Nothing beats the {highlight}, I'd go back just for that."],
            "m": ["The only bad thing: I {mishap} on the second day.", "Of course I {mishap} halfway through.",
                  "Small disaster though, I {mishap}."],
        },
        "later": [],
        "questions": [
            ("single", "fact", ["Where did {X} travel to?", "Which city did {X} visit on holiday?"], ["a"]),
            ("multi-hop", "same-session", ["What did {X} love most about {city}?", "What was the high point of {X}'s {city} holiday?"], ["a", "b"]),
            ("multi-hop", "same-session", ["What went wrong during {X}'s trip to {city}?", "What misfortune did {X} have in {city}?"], ["a", "m"]),
            ("temporal", "when", ["When did {X} go to {city}?", "When was {X}'s holiday in {city}?"], ["a"]),
            ("inference", "preference", ["{hq}"], ["b"]),
        ],
    },
    {
        "name": "job",
        "slots": {
            "company": ["Northwind", "Globex", "Initech", "Umbrella Logistics", "Hooli", "Vandelay Imports", "Stark Freight", "Acme Dental"],
            "company2": ["Blue Harbor", "Pinecrest Labs", "Orbit Media", "Kestrel Health", "Lumen Studio", "Fjord Analytics"],
            "role": ["project manager", "data analyst", "UX designer", "sales lead", "nurse educator", "teacher trainer"],
            "gr": [
                {"grievance": "My manager at {company} cancelled my vacation again, I'm so done."},
                {"grievance": "Another weekend of unpaid overtime at {company}."},
                {"grievance": "{company} froze all raises for the second year in a row."},
                {"grievance": "My boss at {company} took credit for my project in front of everyone."},
            ],
        },
        "parts": {
            "a": ["{grievance}"],
            "c": ["I handed in my notice at {company} today!", "Today was my last day at {company}.",
                  "I quit {company}. Starting fresh next month.", "Resignation letter sent to {company}, no regrets."],
            "d": ["I start as a {role} at {company2} on Monday.", "Signed the contract: {role} at {company2}!",
                  "{company2} offered me the {role} position and I said yes."],
        },
        "later": ["c", "d"],
        "questions": [
            ("multi-hop", "cause-effect", ["Why did {X} leave {company}?", "What made {X} quit their job at {company}?"], ["a", "c"]),
            ("single", "fact", ["Where does {X} work now?", "Who is {X}'s new employer?"], ["d"]),
            ("multi-hop", "same-entity", ["What did {X} do after leaving {company}?", "Which position did {X} take once they were done with {company}?"], ["c", "d"]),
            ("temporal", "when", ["When did {X} resign from {company}?", "When did {X} stop working for {company}?"], ["c"]),
        ],
    },
    {
        "name": "sibling",
        "slots": {
            "rel": ["sister", "brother", "cousin"],
            "sib": ["Lena", "Theo", "Ines", "Malik", "Greta", "Omar", "Rosa", "Anton", "Mira", "Caleb"],
            "city2": ["Toronto", "Melbourne", "Edinburgh", "Seoul", "Nairobi", "Montreal", "Zurich", "Austin"],
            "job2": ["a paramedic", "a sous-chef", "an architect", "a primary school teacher", "a radio producer", "a park ranger"],
        },
        "parts": {
            "a": ["My {rel} {sib} just moved to {city2}.", "{sib}, my little {rel}, finally moved out to {city2}.",
                  "Said goodbye to {sib} at the airport today, my {rel} lives in {city2} now."],
            "b": ["{sib} got hired as {job2}!", "Big week for {sib}: first shifts as {job2}.",
                  "{sib} called, they got the job as {job2} and they're thrilled."],
        },
        "later": ["b"],
        "questions": [
            ("multi-hop", "same-entity", ["What job does {X}'s {rel} have now?", "What does {X}'s {rel} do for a living?"], ["a", "b"]),
            ("single", "fact", ["Where does {sib} live now?", "Which city did {sib} relocate to?"], ["a"]),
            ("temporal", "when", ["When did {X}'s {rel} move to {city2}?", "When did {sib} relocate?"], ["a"]),
        ],
    },
    {
        "name": "injury",
        "slots": {
            "sport": ["football", "climbing", "tennis", "skiing", "basketball", "trail running"],
            "injury": ["sprained my ankle", "tore a ligament in my knee", "broke my wrist", "hurt my shoulder"],
        },
        "parts": {
            "a": ["I {injury} playing {sport} yesterday.", "Ugh, {sport} accident: I {injury}.", "Bad news, I {injury} at {sport} practice."],
            "b": ["The physio says no running for six weeks.", "Doctor's orders: no training for at least a month.",
                  "Still on crutches, so I'm stuck at home.", "Rehab is slow, I can't even carry groceries yet."],
        },
        "later": ["b"],
        "questions": [
            ("multi-hop", "cause-effect", ["Why is {X} unable to exercise at the moment?", "What is keeping {X} off the sports field?"], ["a", "b"]),
            ("single", "fact", ["How did {X} get hurt?", "What injury did {X} suffer?"], ["a"]),
            ("temporal", "when", ["When did {X} get injured?", "When did {X}'s {sport} accident happen?"], ["a"]),
            ("inference", "trait", ["Is {X} a sporty person?", "Does {X} lead an active lifestyle?"], ["a"]),
        ],
    },
    {
        "name": "diet",
        "slots": {
            "d": [
                {"diet": "I've been vegetarian for three years now.", "dq": "Would {X} enjoy a steakhouse dinner?"},
                {"diet": "I stopped eating meat and fish a while ago, fully plant-based now.", "dq": "Should {Y} cook a roast chicken when {X} visits?"},
                {"diet": "Turns out I'm lactose intolerant, so no more cheese for me.", "dq": "Would a fondue night be a good idea for {X}?"},
                {"diet": "I gave up sugar completely, no desserts at all.", "dq": "Would {X} want a slice of birthday cake?"},
                {"diet": "I don't drink alcohol anymore, it's been a year.", "dq": "Would a wine-tasting tour suit {X}?"},
            ],
        },
        "parts": {"a": ["{diet}"]},
        "later": [],
        "questions": [
            ("inference", "preference", ["{dq}"], ["a"]),
            ("single", "fact", ["What are {X}'s eating habits?", "Does {X} follow any special diet?"], ["a"]),
        ],
    },
    {
        "name": "aversion",
        "slots": {
            "v": [
                {"fear": "I sneeze like crazy whenever I'm around cats.", "fq": "Would a kitten be a good present for {X}?"},
                {"fear": "I'm terrified of flying, I take trains everywhere.", "fq": "Would {X} like a surprise weekend abroad by plane?"},
                {"fear": "I never learned to swim, deep water scares me.", "fq": "Would {X} enjoy a sailing holiday?"},
                {"fear": "Crowds make me anxious, I skip big gigs.", "fq": "Should {Y} buy {X} a ticket to a stadium festival?"},
                {"fear": "Spicy food destroys me, even mild salsa.", "fq": "Is a Sichuan hot-pot restaurant a good pick for {X}?"},
                {"fear": "Heights make me dizzy, I can't even use a ladder.", "fq": "Would {X} enjoy a rooftop climbing tour?"},
            ],
        },
        "parts": {"a": ["{fear}"]},
        "later": [],
        "questions": [("inference", "aversion", ["{fq}"], ["a"])],
    },
    {
        "name": "hobby",
        "slots": {
            "h": [
                {"hobby": "pottery", "thing": "my first bowl came out lopsided but I love it"},
                {"hobby": "salsa dancing", "thing": "I finally stopped stepping on my partner's feet"},
                {"hobby": "bouldering", "thing": "I finished my first purple route"},
                {"hobby": "watercolour painting", "thing": "I painted the view from my window"},
                {"hobby": "choir singing", "thing": "we performed at the town hall"},
                {"hobby": "woodworking", "thing": "I built a little bookshelf"},
            ],
            "day": ["Tuesday", "Wednesday", "Thursday", "Monday"],
        },
        "parts": {
            "a": ["I signed up for {hobby} classes on {day} nights.", "I started {hobby} last month and I'm hooked.",
                  "New obsession: {hobby}, every {day} after work."],
            "c": ["Update from class: {thing}!", "Proud moment: {thing}.", "{thing}, can you believe it?"],
        },
        "later": ["c"],
        "questions": [
            ("single", "fact", ["What new hobby did {X} pick up?", "What pastime has {X} taken up recently?"], ["a"]),
            ("multi-hop", "same-entity", ["What has {X} achieved in their new hobby?", "How is {X} progressing at {hobby}?"], ["a", "c"]),
            ("inference", "preference", ["What would make a thoughtful birthday present for {X}?", "What kind of workshop voucher would {X} like?"], ["a"]),
            ("temporal", "when", ["When did {X} start {hobby}?", "When did {X} take up {hobby}?"], ["a"]),
        ],
    },
    {
        "name": "move",
        "slots": {
            "hood": ["Riverside", "the Old Town", "Greenhill", "the harbour district", "Maple Park", "Eastgate"],
            "why": ["The commute was killing me.", "We needed a second bedroom for the baby.", "Our landlord doubled the rent.",
                    "I want to be closer to my parents."],
        },
        "parts": {
            "a": ["We signed the lease for a flat in {hood}!", "We're moving to {hood} at the end of the month.",
                  "Packing boxes all week, we're off to {hood}."],
            "b": ["{why}"],
        },
        "later": [],
        "questions": [
            ("multi-hop", "cause-effect", ["Why is {X} moving house?", "What is the reason behind {X}'s relocation?"], ["a", "b"]),
            ("single", "fact", ["Which neighbourhood is {X} moving to?", "Where will {X}'s new home be?"], ["a"]),
            ("temporal", "when", ["When did {X} move to {hood}?", "When did {X} change address?"], ["a"]),
        ],
    },
    {
        "name": "book",
        "slots": {
            "bk": [
                {"book": "The Salt Road", "author": "Ama Mensah"}, {"book": "Glass Orchard", "author": "Ivo Petrak"},
                {"book": "Winter Ledger", "author": "Sanna Holm"}, {"book": "The Ninth Lantern", "author": "Ruth Okoro"},
                {"book": "Paper Moons", "author": "Dmitri Vale"}, {"book": "A Map of Rain", "author": "Keiko Arai"},
            ],
        },
        "parts": {
            "a": ["I just finished {book} by {author}, couldn't put it down.", "Reading {book} right now, {author} is a genius.",
                  "Stayed up till 3am with {book}."]
        },
        "later": [],
        "questions": [
            ("single", "fact", ["Which book did {X} read recently?", "What novel has {X} been devouring?"], ["a"]),
            ("inference", "preference", ["Does {X} enjoy reading?", "Would {X} like a bookshop gift card?"], ["a"]),
        ],
    },
    {
        "name": "car",
        "slots": {"car": ["Honda Civic", "Toyota Yaris", "Volvo estate", "Skoda Octavia", "Mazda 3", "Kia Niro"]},
        "parts": {
            "a": ["My old car finally died on the motorway.", "The car broke down again, third time this year.",
                  "The mechanic said fixing my old car would cost more than it's worth."],
            "b": ["So I bought a used {car}.", "I ended up getting a second-hand {car}.", "Picked up a {car} from a dealer in town."],
        },
        "later": [],
        "questions": [
            ("multi-hop", "cause-effect", ["Why did {X} buy a {car}?", "What led {X} to get new wheels?"], ["a", "b"]),
            ("single", "fact", ["What car does {X} drive now?", "Which vehicle did {X} purchase?"], ["b"]),
        ],
    },
    {
        "name": "exam",
        "slots": {"exam": ["bar exam", "driving test", "CPA exam", "nursing board exam", "Japanese N3 test", "pilot licence theory exam"]},
        "parts": {
            "a": ["I've been studying every evening for the {exam}.", "The {exam} is in three weeks and I'm panicking.",
                  "Flashcards everywhere, the {exam} is coming."],
            "c": ["I passed the {exam}!", "Results are in: passed the {exam} with a good score.", "The {exam} is done and I passed!"],
        },
        "later": ["c"],
        "questions": [
            ("multi-hop", "cause-effect", ["Did {X}'s preparation for the {exam} pay off?", "How did all of {X}'s revision turn out?"], ["a", "c"]),
            ("temporal", "when", ["When did {X} pass the {exam}?", "When did {X} get the good news about the {exam}?"], ["c"]),
        ],
    },
    {
        "name": "baking",
        "slots": {
            "cake": ["lemon drizzle cake", "three-layer chocolate cake", "apple pie", "batch of cinnamon rolls", "carrot cake"],
            "occasion": ["my parents' anniversary", "my niece's birthday", "the office bake sale", "our neighbour's housewarming"],
        },
        "parts": {"a": ["I baked a {cake} for {occasion}.", "Spent all Sunday on a {cake} for {occasion}, worth it."]},
        "later": [],
        "questions": [
            ("single", "fact", ["What did {X} bake?", "Which dessert did {X} make for a celebration?"], ["a"]),
            ("inference", "trait", ["Does {X} like spending time in the kitchen?", "Would {X} enjoy a pastry course?"], ["a"]),
        ],
    },
    {
        "name": "concert",
        "slots": {
            "band": ["The Lanterns", "Velvet Harbour", "Northern Static", "Mira and the Moths", "Copper Tides"],
            "venue": ["Roundhouse", "Paradiso", "Olympia", "Bluebird Hall", "Apollo"],
        },
        "parts": {"a": ["We saw {band} live at the {venue} last night.", "{band} at the {venue}, best gig of my life.",
                        "Finally caught {band} in concert at the {venue}."]},
        "later": [],
        "questions": [
            ("single", "fact", ["Which band did {X} see live?", "What group did {X} watch perform?"], ["a"]),
            ("single", "fact", ["Where did {X} see {band}?", "At which venue did {X} catch {band}?"], ["a"]),
        ],
    },
]

# Small talk: most turns, built from parts so that hardly two are the same
# text (a repeated text would be deduplicated by the drain and the store would
# shrink to its events). {Y} is the other speaker: names recur in most turns.
OPENERS = ["Haha", "Oh wow", "Aww", "No way", "Omg", "Ugh", "Honestly", "Ha", "Oh nice", "Wait", "Yay", "Hmm", "Lol",
           "Oh no", "Wow", "Yes", "Right", "Okay", "Oof", "Aw", "Hey", "Ooh", "Seriously", "Oh man"]
REACTIONS = ["that's so nice", "that sounds amazing", "I love that", "congrats", "that's wild", "so happy for you",
             "tell me more", "same here", "I know, right", "fair enough", "that's adorable", "you deserve it",
             "sounds like a plan", "I'm so sorry", "that's hilarious", "good for you", "keep me posted", "love that for you",
             "that's so exciting", "what a week", "classic you", "I can't believe it", "makes sense", "totally agree",
             "I miss you", "talk soon", "how are you doing", "long time no see", "hope you're well", "sending hugs"]
ENDINGS = ["!", ".", ", {Y}!", ", {Y}.", "!!", " :)", " haha", ", {Y} 😂", "?", " {Y}!", "! 🎉", ", {Y} :)"]
# Chit-chat with content words, so sharing a word with the question is not enough.
CHATTER = [
    ("My neighbour's {animal} {noise} all night again.", {"animal": ["dog", "cat", "parrot", "baby"], "noise": ["barked", "howled", "screamed", "was loud"]}),
    ("I read that {city} is getting really {adj}.", {"adj": ["expensive", "crowded", "trendy", "quiet"]}),
    ("Work has been {adj} {when}.", {"adj": ["a lot", "so slow", "chaotic", "weirdly calm"], "when": ["lately", "this week", "all month", "since Monday"]}),
    ("I should really {habit} more.", {"habit": ["read", "sleep", "cook at home", "call my parents", "go outside", "stretch"]}),
    ("The weather was {adj} {when}.", {"adj": ["awful", "gorgeous", "so grey", "freezing", "boiling"], "when": ["today", "this morning", "all weekend", "yesterday"]}),
    ("I need a {thing} so badly.", {"thing": ["holiday", "nap", "haircut", "new laptop", "day off", "massage"]}),
    ("My {device} is acting up {when}.", {"device": ["phone", "laptop", "car", "washing machine", "router"], "when": ["again", "every morning", "since the update"]}),
    ("I tried a new {dish} recipe, it was {outcome}.", {"dish": ["curry", "pasta", "soup", "risotto", "taco"], "outcome": ["a disaster", "pretty good", "edible", "too salty"]}),
    ("Did you watch the {show} {when}?", {"show": ["game", "finale", "debate", "new episode", "match"], "when": ["last night", "on Sunday", "yesterday"]}),
    ("Traffic was {adj} {when}.", {"adj": ["terrible", "insane", "fine for once", "backed up"], "when": ["this morning", "on the way home", "today"]}),
    ("I'm thinking about learning {skill}.", {"skill": ["Spanish", "guitar", "to code", "Italian", "sign language", "chess"]}),
    ("The new {shop} {where} is nice.", {"shop": ["cafe", "bakery", "bookshop", "ramen place"], "where": ["downstairs", "near work", "on my street"]}),
    ("I slept {adj} {when}.", {"adj": ["so badly", "like a rock", "three hours"], "when": ["last night", "this week", "again"]}),
    ("My {relative} sent me a {thing}.", {"relative": ["sister", "mum", "dad", "cousin", "aunt"], "thing": ["funny video", "weird meme", "long voice note", "photo of her garden"]}),
    ("We should {plan} sometime.", {"plan": ["plan a trip together", "get dinner", "go for a walk", "do a movie night", "try that new bar"]}),
    ("My boss is {state}, finally some quiet.", {"state": ["on vacation", "at a conference", "out sick", "in meetings all day"]}),
    ("I'm trying to {goal}.", {"goal": ["drink more water", "walk ten thousand steps", "stop doomscrolling", "save money", "eat less sugar"]}),
    ("The {place} was packed {when}.", {"place": ["gym", "supermarket", "train", "park", "pool"], "when": ["today", "this morning", "again"]}),
    ("My plants keep {state}, no idea why.", {"state": ["dying", "drooping", "growing sideways"]}),
    ("I found an old {thing} {when}.", {"thing": ["photo album", "diary", "mixtape", "school report"], "when": ["yesterday", "while cleaning", "in the attic"]}),
]
CITIES = ["Lisbon", "Berlin", "Paris", "Tokyo", "Madrid", "Rome", "Prague", "Vienna"]
