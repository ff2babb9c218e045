"""More ways to say each red flag, and more remarks that only look like one (round two).

The phrasings are the project's own, written for these tests from the NHS list of signs: none is
taken from the real-world evaluation sets (tests/eval/sets/). Each group exercises a rule in
content/en/safety.toml that is meant to generalise (a synonym, a word order, a scope), so a
rule that breaks fails here, not only on the eval sets.
"""

from __future__ import annotations

import pytest

from skill.core.safety import screen

EMERGENCY = [
    # numbness in the saddle area
    "my bum feels numb",
    "I've got no feeling in my backside",
    "numb around my privates",
    "my inner thighs are numb",
    "I can't feel the paper when I wipe",
    "tingling in my groin",
    "my genitals feel numb",
    "I have reduced sensation in my buttocks",
    "numbness in my saddle area",
    "there's a numb patch on my bum",
    "my crotch has gone numb",
    "I've lost feeling around my anus",
    "no sensation when I wipe",
    "one bum cheek is numb",
    # bladder and bowels
    "I wet myself without realising",
    "I can't empty my bladder properly",
    "my bladder won't empty",
    "I'm struggling to pee",
    "I can't control my bowels",
    "I pooed myself",
    "I have to push to pee",
    "my stream is really weak now",
    "I haven't been able to pee all day",
    "I can't feel when I need a poo",
    "I've lost control of my bowels",
    "I dribble urine",
    "I'm not able to hold my wee",
    "I keep having to rush to the loo since my back went",
    "I'm weeing far more often since my back started",
    "I keep needing to urinate every few minutes",
    "it's harder to start peeing than it used to be",
    "I find it hard to stop the flow once I start",
    "I've had a sudden urge to open my bowels and couldn't hold it",
    # sexual function
    "I can't get hard anymore since my back injury",
    "my erections have stopped since the back pain",
    "I can't orgasm since my back went",
    "erectile dysfunction since my back pain began",
    "I've become impotent since my back injury",
    "I can't get or maintain an erection lately",
    "since I hurt my back I can't keep it up",
    # both legs
    "both my legs have gone weak",
    "my legs feel like jelly",
    "I can hardly lift my legs",
    "my legs are heavy and dragging",
    "my legs keep buckling",
    "my legs won't hold me up",
    "I'm losing strength in my legs",
    "my legs feel numb and tingly",
    "I've got numbness down both legs",
    "I can't feel my feet",
    "my legs feel like lead",
    "my legs feel like they're going to give way",
    "my legs feel like they don't belong to me",
    "I have to stop and sit down after a short walk because my legs go numb",
    "I walk a few hundred yards and my legs go weak",
    # chest and breathing
    "my chest feels tight",
    "pain in my chest",
    "there's pressure on my chest",
    "I'm finding it hard to breathe",
    "I'm breathless and my back hurts",
    "my chest hurts when I breathe",
    "the pain goes from my back through to my chest",
    # a part gone to sleep that stays asleep; feeling barely there when wiping
    "it's like my bottom has gone to sleep and it won't wake up",
    "when I go to the toilet and wipe I can barely feel it",
    "sitting on the toilet feels odd, like I can't feel the seat",
    "I haven't had a wee since yesterday and my back is killing me",
    "my legs feel like they're made of lead",
]

URGENT = [
    ("I'm running a fever", "fever"),
    ("I feel hot and shivery", "fever"),
    ("I've got a temperature and my back's killing me", "fever"),
    ("I've been sweating buckets at night", "fever"),
    ("I've had chills all day", "fever"),
    ("my temperature is thirty nine", "fever"),
    ("I feel feverish", "fever"),
    ("I woke up soaked in sweat", "fever"),
    ("I fell off a ladder", "fall_or_accident"),
    ("I slipped in the shower and hurt my back", "fall_or_accident"),
    ("I took a bad fall", "fall_or_accident"),
    ("I was in a car accident last week", "fall_or_accident"),
    ("I came off my bike and landed on my back", "fall_or_accident"),
    ("I tumbled down the stairs", "fall_or_accident"),
    ("I was rear ended at the lights", "fall_or_accident"),
    ("I fell backwards onto the floor", "fall_or_accident"),
    ("since my fall my back has hurt", "fall_or_accident"),
    ("I had a skiing accident", "fall_or_accident"),
    ("a heavy box dropped onto my back", "fall_or_accident"),
    ("a shelf fell on me", "fall_or_accident"),
    ("I've had cancer before", "cancer_history"),
    ("I'm a cancer survivor and my back hurts", "cancer_history"),
    ("I had chemo last year", "cancer_history"),
    ("I have a history of breast cancer", "cancer_history"),
    ("I was treated for lymphoma", "cancer_history"),
    ("I had a tumour removed", "cancer_history"),
    ("I've lost weight and I'm not sure why", "weight_loss"),
    ("the weight is just falling off me", "weight_loss"),
    ("I've dropped a dress size without dieting", "weight_loss"),
    ("I've lost two stone and I haven't been trying", "weight_loss"),
    ("my weight has dropped for no reason", "weight_loss"),
    ("my trousers are getting baggy and I'm eating the same", "weight_loss"),
    ("the scales keep dropping though I eat normally", "weight_loss"),
    ("I've gone down two sizes and I'm not dieting", "weight_loss"),
    ("people keep saying I look thinner and I haven't changed anything", "weight_loss"),
    ("the pain is unbearable and keeps getting worse", "severe_worsening"),
    ("it's agony and it's getting worse every day", "severe_worsening"),
    ("the pain is severe and constant", "severe_worsening"),
    ("painkillers aren't helping and it keeps getting worse", "severe_worsening"),
    ("it's worse every week despite the physio", "severe_worsening"),
    ("what should I do if my pain is excruciating and getting worse", "severe_worsening"),
    ("it kills when I cough", "cough_sneeze"),
    ("sneezing sends a sharp pain through my back", "cough_sneeze"),
    ("every time I sneeze my back hurts", "cough_sneeze"),
    ("coughing is agony", "cough_sneeze"),
    ("it's painful to cough", "cough_sneeze"),
    ("a sneeze feels like a knife in my back", "cough_sneeze"),
    ("I can't even sneeze without my back screaming", "cough_sneeze"),
    ("it stabs when I cough", "cough_sneeze"),
    ("the pain is between my shoulder blades", "upper_back"),
    ("my middle back hurts", "upper_back"),
    ("there's an ache between my shoulder blades", "upper_back"),
    ("it hurts right between the shoulder blades", "upper_back"),
    ("there's a lump on my spine", "lump_or_shape"),
    ("I've found a bump on my lower back", "lump_or_shape"),
    ("there's a hard lump near the bottom of my spine on the left side", "lump_or_shape"),
    ("my spine is sticking out", "lump_or_shape"),
    ("one side of my back looks bigger than the other", "lump_or_shape"),
    ("my back has become curved", "lump_or_shape"),
    ("the pain wakes me up every night and nothing eases it", "night_pain"),
    ("I can't sleep because the pain is so bad", "night_pain"),
    ("the pain keeps me up at night and no position helps", "night_pain"),
    ("at night nothing I try takes the pain away", "night_pain"),
    ("the pain wakes me up in the night and I can't get back to sleep", "night_pain"),
]

MENTION = [
    "I'm thirty and have been stiff every morning for months and it lasts over an hour",
    "the stiffness lasts all morning and gets better with exercise, I'm only twenty four",
    "I've had stiff mornings for a year and it eases when I move around",
    "my back is stiff for two hours every morning and gets worse when I rest",
    "I've had morning stiffness for years that wears off by lunchtime",
    "it's stiffer after resting and a jog loosens it up",
    "for ages now it takes me an hour every morning before I can straighten up",
]

HARMLESS = [
    "I have spring fever",
    "I'm falling for him",
    "I fall asleep watching TV",
    "the stock market crashed",
    "my horoscope says cancers are lucky today",
    "the temperature dropped last night",
    "I lost my phone",
    "my coffee is weak",
    "I had a sneezing fit from the dust",
    "I've got a cough from this cold",
    "that's a weight off my mind",
    "the kids are a pain in the bum",
    "this song gives me chills",
    "I'm numb to the news these days",
    "my feet fell asleep while I was kneeling but they woke up",
    "I was on pins and needles all day",
    "she did a number on me",
    "a number of people told me to stretch",
    "I tripped over the dog yesterday but nothing happened",
    "I fell over but I wasn't hurt",
    "it feels like I got hit by a bus after moving house",
    "I had a fever last month but it's long gone",
    "I had a cold with a temperature but my temperature is normal again",
    "my leg went numb from kneeling so long until it woke up",
    "I'm a typical cancer, very emotional",
    "my moon is in cancer",
    "I get this falling sensation just as I drift off and I jerk awake",
    "I feel like I'm falling as I drop off to sleep",
    "my legs feel like jelly after a long run",
    "after a tough workout my legs feel heavy",
    "I'm peeing all the time now I'm pregnant",
    "I need to pee more when I drink coffee",
    "I'm so clumsy I have little accidents all the time",
    "I've always been accident prone",
    "my dog's bladder is weak",
    "my son has chest pains",
    "my wife's legs are numb",
    "my friend has bladder cancer",
    "my mother's cancer came back",
    "my neighbour had a fall",
    "I feel numb about the whole thing",
    "I've got a lump of ice on my back to numb the pain",
    "I had a fall last year but I'm fine now",
    "I watched a documentary about a car accident",
    "the heating makes me sweat at night",
    "my MRI says I have a bulging disc",
    "the film about the car crash was awful",
]

QUESTIONS = [
    "what should I watch out for",
    "what counts as a red flag",
    "is losing weight a bad sign",
    "can sciatica affect both legs",
    "what does saddle anaesthesia feel like",
    "could a fall cause a slipped disc",
    "how would I know if it's cauda equina",
    # as the carrier hands them over: the question word is gone
    "causes numbness in the bottom",
    "should I worry about chest pain",
    "incontinence with back pain be an emergency",
    "numbness in the groin be serious",
    "what should I do if I fall",
]

DENIED = [
    "no fever or chills",
    "I haven't fallen or had any accident",
    "I have no trouble peeing",
    "I don't have any tingling down there",
    "no weight loss",
    "I've never had cancer",
    "it doesn't get worse when I cough",
]


def _level(text: str) -> str | None:
    found = screen(text)
    return found.level if found else None


def _reads_as(said: str, expected: str | None) -> None:
    """The screen gives `said` the `expected` level, or (None) raises nothing: no finding, or
    only the gentle line for a denial."""
    assert _level(said) in ((expected,) if expected else (None, "absent")), (said, screen(said))


@pytest.mark.parametrize("user_says", EMERGENCY)
def test_more_ways_to_say_an_emergency(user_says: str) -> None:
    assert _level(user_says) == "emergency", (user_says, screen(user_says))


@pytest.mark.parametrize(("user_says", "sign"), URGENT)
def test_more_ways_to_say_an_urgent_sign(user_says: str, sign: str) -> None:
    found = screen(user_says)
    assert found is not None and (found.level, found.sign) == ("urgent", sign), (user_says, found)


@pytest.mark.parametrize("user_says", MENTION)
def test_more_ways_to_describe_the_inflammatory_pattern(user_says: str) -> None:
    assert _level(user_says) == "mention", (user_says, screen(user_says))


@pytest.mark.parametrize("user_says", HARMLESS + QUESTIONS)
def test_more_remarks_that_only_look_like_a_red_flag(user_says: str) -> None:
    assert _level(user_says) in (None, "absent"), (user_says, screen(user_says))


@pytest.mark.parametrize("user_says", DENIED)
def test_more_denials_get_the_gentle_line(user_says: str) -> None:
    assert _level(user_says) == "absent", (user_says, screen(user_says))


@pytest.mark.parametrize(("user_says", "expected"), [
    ("both my feet have gone numb", "emergency"),
    ("suddenly I can't feel my legs", "emergency"),
    ("all of a sudden my legs gave way", "emergency"),
    ("out of the blue I've lost control of my bladder", "emergency"),
    ("bad pain down both legs", "emergency"),
])
def test_a_red_flag_said_first_reaches_the_screen_end_to_end(user_says: str,
                                                              expected: str) -> None:
    """The interaction model's free-text carriers include the words a red flag is often said
    after ("both", "suddenly", "out of the blue"): what the slot carries still alarms."""
    from tools.eval import real

    carried = real.free_text(user_says)
    assert carried is not None, user_says
    assert _level(carried) == expected, (user_says, carried, screen(carried))


# The NHS and cauda equina card wordings turned into what a person might say, and everyday
# remarks around the same words (a third batch of the project's own phrasings).
SAID_AS_ON_THE_CARDS = [
    ("I've lost all sensation down below", "emergency"),
    ("I can't feel myself peeing", "emergency"),
    ("there's no sensation when I open my bowels", "emergency"),
    ("I've got a numb bum", "emergency"),
    ("my saddle area feels numb", "emergency"),
    ("I had a weird feeling when I wiped", "emergency"),
    ("I'm peeing a lot less than usual", "emergency"),
    ("I have to strain to poo and my bottom feels numb", "emergency"),
    ("my legs are getting weaker and weaker", "emergency"),
    ("my legs collapse under me", "emergency"),
    ("I'm tripping over my own feet", "emergency"),
    ("I've been falling over because my legs won't work", "emergency"),
    ("I've got numbness and weakness in both legs", "emergency"),
    ("I've lost bladder control", "emergency"),
    ("I've wet myself a few times this week", "emergency"),
    ("I can't feel when my bowels are full", "emergency"),
    ("my back pain came with problems peeing", "emergency"),
    ("I can't feel my genitals", "emergency"),
    ("I get tingling around my back passage", "emergency"),
    ("I have numbness in my inner thighs and groin", "emergency"),
    ("I have trouble emptying my bladder", "emergency"),
    ("I've noticed I can't hold my urine", "emergency"),
    ("my pee flow is weaker than before", "emergency"),
    ("I've had a loss of feeling in my private area", "emergency"),
    ("I've been soiling myself", "emergency"),
    ("I can't control when I need to go", "emergency"),
    ("I've had erectile problems since my back went", "emergency"),
    ("my chest feels heavy and I'm sweating", "emergency"),
    ("I've got pain in my chest and left arm", "emergency"),
    ("I feel hot and shivery and my back is killing me", "urgent"),
    ("I've got a high temperature and back pain", "urgent"),
    ("I've been shivering and feverish", "urgent"),
    ("I have a swelling in my back", "urgent"),
    ("the shape of my back has changed", "urgent"),
    ("my back looks deformed", "urgent"),
    ("I've lost weight without meaning to", "urgent"),
    ("I've been losing weight and my back hurts", "urgent"),
    ("I've had cancer and now my back hurts", "urgent"),
    ("I had bowel cancer three years ago", "urgent"),
    ("I'm on chemotherapy and my back hurts", "urgent"),
    ("I've had a tumour in the past", "urgent"),
    ("my back pain started after I fell off a chair", "urgent"),
    ("I was in a road accident", "urgent"),
    ("I had a bad fall last week", "urgent"),
    ("I slipped on wet leaves and hurt my back", "urgent"),
    ("I fell awkwardly on the stairs", "urgent"),
    ("I was knocked down by a car", "urgent"),
    ("the pain gets worse when I cough", "urgent"),
    ("coughing and sneezing really hurt my back", "urgent"),
    ("it kills me to sneeze", "urgent"),
    ("the pain in my upper back is getting worse", "urgent"),
    ("I have pain in the middle of my back", "urgent"),
    ("the pain is between my shoulders", "urgent"),
    ("the pain is worse at night and I can't sleep", "urgent"),
    ("I'm awake all night with the pain and nothing helps", "urgent"),
    ("the pain at night is unbearable", "urgent"),
    ("the pain is severe and it's getting worse", "urgent"),
    ("the pain is so bad I can't bear it and it keeps getting worse", "urgent"),
    ("it's the worst pain ever and it's not letting up", "urgent"),
    ("I'm twenty six and my back is stiff every morning for an hour", "mention"),
    ("I've had back stiffness every morning for three months that gets better when I exercise",
     "mention"),
    ("I'm thirty and my back is stiff for hours in the morning and better with movement",
     "mention"),
    # harmless
    ("I fell pregnant last year", None),
    ("I have a chest infection", None),
    ("my heart feels heavy", None),
    ("I lost my job", None),
    ("I lost my dog last week", None),
    ("my bladder is full", None),
    ("I need a wee", None),
    ("I'm bursting for a wee", None),
    ("I wet the bed as a child", None),
    ("my dog is incontinent", None),
    ("I had a sugar crash", None),
    ("I'm on a crash diet", None),
    ("I'm tingling with excitement", None),
    ("my husband has bladder cancer", None),
    ("my mum has a lump in her breast", None),
    ("I'm worried about falling when I'm older", None),
    ("my cat fell off the fence", None),
    ("the temperature outside is freezing", None),
    ("I had the flu last month but I'm over it", None),
    ("I lost a bit of weight on holiday from all the walking", None),
    ("I sleep with my legs on a pillow", None),
    ("my legs feel tired at the end of the day", None),
    ("my knees are stiff in the morning", None),
    ("my back feels heavy in the morning", None),
    ("my back is stiff for half an hour when I get up", None),
    ("I'm stiff in the morning but it wears off after a shower", None),
    ("what is the cauda equina", None),
    ("how do you know if back pain is serious", None),
    ("when is back pain an emergency", None),
    ("what are the red flags for back pain", None),
    ("my doctor checked for cauda equina and it was fine", None),
    ("I had an MRI and there's no sign of cancer", None),
    ("I was worried it was cancer but the scan was clear", None),
    ("my stomach is upset", None),
    ("I drank too much water before bed so I had to pee in the night", None),
]


@pytest.mark.parametrize(("user_says", "expected"), SAID_AS_ON_THE_CARDS)
def test_the_cards_signs_in_the_first_person(user_says: str, expected: str | None) -> None:
    _reads_as(user_says, expected)


@pytest.mark.parametrize("question", [
    "is saddle numbness an emergency", "is numbness in the groin serious",
    "are chest pains serious", "is a fever with back pain serious",
    "how serious is incontinence with back pain", "could numbness be cauda equina",
    "when is numbness an emergency", "is weight loss with back pain serious",
    "what counts as a fever", "is pain between the shoulder blades serious",
    "is sciatica in both legs an emergency", "should I go to A and E for numbness",
    "is losing weight a sign of cancer", "what happens if you lose bladder control",
])
def test_a_question_stays_a_question_when_the_carrier_takes_its_first_word(question: str) -> None:
    """Alexa keeps the question word for its carrier ("is {query}"): "saddle numbness an
    emergency" still asks, it does not tell."""
    from tools.eval import real

    for said in (question, real.free_text(question) or question):
        assert _level(said) in (None, "absent"), (question, said, screen(said))


@pytest.mark.parametrize(("user_says", "expected"), [
    ("I've been having chest pains and it's really worrying", "emergency"),
    ("my legs are numb and that's not normal", "emergency"),
    ("I have numbness in my groin, is it serious", "emergency"),
    ("there's a lump on my spine, could it be serious", "urgent"),
])
def test_a_judgement_after_a_verb_leaves_the_statement_a_statement(user_says: str,
                                                                   expected: str) -> None:
    assert _level(user_says) == expected, (user_says, screen(user_says))


# The other senses and passing sensations the issue names, said in more ways, and the real
# signs beside them (a fourth batch of the project's own phrasings), direct and end to end.
OTHER_SENSES_AND_REAL_SIGNS = [
    ("my back went into spasm and now I can't feel my bum", 'emergency'),
    ('my privates have gone numb since this morning', 'emergency'),
    ('I have no control over my bladder any more', 'emergency'),
    ("I've been unable to pee for hours", 'emergency'),
    ("I've noticed I'm leaking when I walk", 'emergency'),
    ("I can't get an erection since I hurt my back", 'emergency'),
    ('my legs are weak and I keep falling', 'emergency'),
    ('my feet are numb and my legs are weak', 'emergency'),
    ('my chest is hurting', 'emergency'),
    ("there's a pain in my chest when I breathe in", 'emergency'),
    ('I have a fever and my back is stiff', 'urgent'),
    ("I've got a raging temperature", 'urgent'),
    ("I'm sweating at night and my back aches", 'urgent'),
    ('I was tackled playing rugby and my back hurts', 'urgent'),
    ('I fell down a few steps yesterday', 'urgent'),
    ('I fell off the bed', 'urgent'),
    ('I had a fall on the ice', 'urgent'),
    ("I've had leukaemia", 'urgent'),
    ("I'm in remission from breast cancer and my back hurts", 'urgent'),
    ("I've lost loads of weight without trying", 'urgent'),
    ("my appetite has gone and I've lost weight", 'urgent'),
    ("it's agony when I cough", 'urgent'),
    ('sneezing makes the pain shoot down my leg', 'urgent'),
    ('the pain is high up between my shoulder blades', 'urgent'),
    ("there's a lump on my lower back that's getting bigger", 'urgent'),
    ('the pain wakes me every night', None),
    ('my pain is unbearable at night and nothing helps', 'urgent'),
    ("I'm twenty two and my back has been stiff every morning for six months", 'mention'),
    ('I have fever blister', None),
    ('my dog had a fall', None),
    ('my back is a bit stiff', None),
    ('my back hurts when I cough because I pulled a muscle coughing', 'urgent'),
    ('I fell for a scam', None),
    ('the cat knocked over my tea', None),
    ("I'm weak from the flu", None),
    ('I lost weight when I was ill last year', None),
    ('my grandad has a hump', None),
    ('I pee a lot because I drink loads of water', None),
    ('I have a weak pelvic floor since having my baby', None),
    ('I can feel my heart beating in my chest when I lie down', None),
    ("my chest feels tight when I'm anxious", 'emergency'),
    ("I'm heavy and need to lose weight", None),
    ('I feel like a dead weight in the morning', None),
    ("I woke up with a dead arm but it came back after a minute", None),
    ("I had pins and needles in my leg after lying on it but it went away", None),
    ("my dog's bladder isn't what it used to be", None),
    ("my dog has bladder problems", None),
    ("my cat fell and hurt her back", None),
    ("I've got hay fever and my back hurts", None),
    ("I get cabin fever in winter", None),
    ("I keep falling asleep on the couch", None),
    ("I spilt my coffee by accident", None),
    ("I'm a Cancer, born in July", None),
    ("what's the horoscope for Cancer today", None),
    ("my arm went dead in the night and tingled when it came back", None),
    ("my feet tingle when I'm cold", None),
    ("I had a little accident with the kettle", None),
    ("I dropped a plate and it smashed", None),
    ("I tripped on the rug but caught myself", None),
    ("I was nearly in a car accident", None),
    ("I almost fell down the stairs", None),
    ("I'm scared I'll fall in the shower", None),
    ("my chest of drawers is falling apart", None),
    ("the weight of the duvet is heavy on my legs", None),
    ("my legs feel heavy after a long day on my feet", None),
    ("my bladder wakes me up once a night", None),
    ("I have to get up to wee at night", None),
    ("I've got a lump in my mattress", None),
    ("the pain is bad when I wake up but goes after an hour", None),
    ("I have a temperature controlled mattress", None),
    ("the room temperature is too low", None),
    ("my grandmother had a curved spine", None),
    ("my husband lost a lot of weight after his operation", None),
    ("my husband's legs went numb", None),
    ("my friend fell off a ladder", None),
    ("we had a car accident years ago but nobody was hurt", None),
    ("I was in an accident as a child", None),
    ("I had cancer scare but the tests were clear", None),
    ("I had a fever dream last night", None),
    ("I'm losing my patience", None),
    ("my back feels numb after the ice pack", None),
    ("I had the chills after swimming in the cold sea", None),
    # must still alarm
    ("my leg has been numb for two days", "urgent"),
    ("I fell and hit my back on the step", "urgent"),
    ("I had an accident at work and hurt my back", "urgent"),
    ("I've had a fever for three days", "urgent"),
    ("my back hurts and I've got a temperature", "urgent"),
    ("I'm feeling feverish and achy with my back", "urgent"),
    ("I had a fall yesterday and my back is really sore", "urgent"),
    ("I'm a cancer patient and my back hurts", "urgent"),
    ("I've had prostate cancer", "urgent"),
]


# Ordinary back pain said plainly, which is what the skill is for, and the inflammatory
# pattern beside it (a sixth batch), direct and end to end.
ORDINARY_PAIN_AND_THE_PATTERN = [
    ('my back is killing me this morning', None),
    ('it hurts so bad when I get out of bed', None),
    ('I can hardly move in the morning', None),
    ('my lower back is really sore after sleeping', None),
    ('I get a sharp pain when I bend over', None),
    ('my back spasms when I roll over', None),
    ("I'm hobbling around like an old man", None),
    ("I woke up and couldn't stand up straight", None),
    ('my back aches all day after a bad night', None),
    ('sitting at my desk makes it worse', None),
    ('the pain shoots into my bum when I sit', None),
    ('my hips and lower back ache in the morning', None),
    ('it feels like my back is made of wood', None),
    ("I'm stiff as a board when I wake up", None),
    ('my back is sore and tight', None),
    ('I pulled something in my back lifting a box', None),
    ('the pain is worse in the mornings and eases in the afternoon', None),
    ('I have a dull ache in my lower back every morning', None),
    ('my back hurts when I stand for a long time', None),
    ('I get pins and needles in my hands at night', None),
    ('my arm goes numb when I sleep on it', None),
    ('my hands tingle in the morning', None),
    ("I've had back pain on and off for years", None),
    ('my back has been bad for months', None),
    ("it's been sore for a few weeks", None),
    ('my back pain keeps coming back', None),
    ('I sleep badly because of my back', None),
    ('the mattress is too soft and my back hurts', None),
    ("I've been stiff every morning for years", None),
    ("I'm fifty and stiff every morning", None),
    ("I'm twenty four and I've had stiff mornings for over a year that ease when I get moving",
     'mention'),
    ("I'm thirty one, my back is stiff for two hours every morning and exercise helps", 'mention'),
    ('I was diagnosed with ankylosing spondylitis', 'mention'),
    ("my back feels better the more I move and worse when I sit still, and I'm thirty", 'mention'),
]


# Denials and other people's symptoms, in more ways (a seventh batch): never an alarm, said
# whole or as the free-text slot carries them.
DENIED_OR_SOMEONE_ELSES = [
    "I don't have any numbness or tingling", 'no problems with my waterworks', "I'm not leaking",
    'my bladder and bowels are working normally',
    "I haven't noticed any numbness around my bottom",
    'I can feel everything normally when I wipe', "I haven't had a fever", "there's no fever",
    "I didn't fall or hurt myself", "I haven't had an accident", "I've never had cancer",
    "there's no history of cancer in my family", "I'm not losing any weight",
    'my weight is stable', "it doesn't get worse when I sneeze", "coughing doesn't make it worse",
    "there's no lump", "the pain isn't between my shoulder blades", "it doesn't wake me at night",
    'I sleep fine', 'my legs feel strong', "there's no weakness in my legs", 'I can walk normally',
    'I have no trouble with erections', 'no chest pain and no breathing problems',
    "I'm not short of breath", "I haven't lost control of my bladder", 'no pins and needles',
    'nothing like numbness or weakness', 'neither numbness nor tingling', "my legs aren't weak",
    "I don't think I have a fever", "I've had no falls", 'I feel normal down there',
    'my temperature is normal', "I'm peeing normally", 'no leg weakness', 'no saddle numbness',
    "I don't get chills", "I'm not shivery", "my husband's legs are numb",
    'my son has a temperature', 'my daughter has fallen down the stairs',
    'my mate fell off his bike', 'the baby has a fever', 'my grandson was in a car accident',
    'my colleague has back pain and a fever', 'our dog fell down the steps',
    "my partner's got a lump on his back", "my wife can't control her bladder",
    'my dad lost a lot of weight', "my mum's cancer has spread", "my brother can't feel his feet",
    'my neighbour slipped on the ice', 'my father in law has chest pains',
    'my girlfriend has pins and needles in her legs', 'my boss had a heart attack',
    'my child wet the bed', 'my teenage son has back pain and a high temperature',
    'my sister had breast cancer', 'the old man next door fell over',
    'my husband keeps waking with night sweats',
]


@pytest.mark.parametrize(("user_says", "expected"), [
    *OTHER_SENSES_AND_REAL_SIGNS, *ORDINARY_PAIN_AND_THE_PATTERN,
    *((said, None) for said in DENIED_OR_SOMEONE_ELSES),
])
def test_read_the_same_direct_and_end_to_end(user_says: str, expected: str | None) -> None:
    """Each of these, said whole and as the free-text slot carries it (the carrier's first word
    gone): the expected level, or no alarm at all (None: nothing, or the gentle line)."""
    from tools.eval import real

    carried = real.free_text(user_says)
    for said in [user_says] + ([carried] if carried else []):
        _reads_as(said, expected)


# A fourth batch of the project's own phrasings, for the rules added after round two's held-out
# batch was scored and released (tests/eval/sets/README.md): words it showed were missing
# (pass urine, a pressure in the chest, less control of both legs, a sneeze that goes to the
# back, being thrown, a protrusion, sleeping sitting up) and scopes it showed were too narrow
# (how a sign is diagnosed, numb with grief, a fever that was all gone).
AFTER_ROUND_TWO = [
    ("I haven't passed urine since last night", "emergency"),
    ("I've hardly been able to wee today", "emergency"),
    ("I've got no feeling when I open my bowels", "emergency"),
    ("there's a heavy pressure building in my chest", "emergency"),
    ("it feels like I've been punched in the chest", "emergency"),
    ("my chest is tight and it goes up into my jaw", "emergency"),
    ("I have much less control of both my legs", "emergency"),
    ("my ass has gone completely numb", "emergency"),
    ("numb all down my right leg and around my saddle area", "emergency"),
    ("I can hardly feel anything in my private parts", "emergency"),
    ("since my back went, when I climax it's not as intense as before", "emergency"),
    ("every time I cough I clutch my lower back", "urgent"),
    ("I sneezed this morning and the pain in my back was unbearable", "urgent"),
    ("I got thrown from a horse yesterday", "urgent"),
    ("I wiped out on my bike on the way home", "urgent"),
    ("I've got a bone deep chill and my back aches", "urgent"),
    ("there's a small protrusion on my spine", "urgent"),
    ("the pain wakes me and I can't get back to sleep", "urgent"),
    ("I've been sleeping sitting up because lying down is agony", "urgent"),
    ("it's a sharp pain under my right shoulder blade", "urgent"),
    ("is this dull ache between my shoulder blades serious", "urgent"),
    ("for months now my back gets better when I move about", "mention"),
    ("since I was about nineteen my back has been stiff every morning", "mention"),
    ("how do doctors test for cauda equina", None),
    ("what's the difference between sciatica and saddle numbness", None),
    ("I'm pregnant and I leak a little when I laugh", None),
    ("I was numb for days after the funeral", None),
    ("I'm numb, I can't believe we lost the final", None),
    ("I had a fever on Sunday but thankfully it was all gone by Monday", None),
    ("I get a numb bum on long rides but it's short lived", None),
    ("my back pain isn't nearly as intense as before", None),
    ("I'm having a bad chest day at the gym", None),
]


@pytest.mark.parametrize(("user_says", "expected"), AFTER_ROUND_TWO)
def test_the_words_round_two_showed_were_missing(user_says: str, expected: str | None) -> None:
    _reads_as(user_says, expected)


# Ordinary aches said plainly, with the words a red flag also uses ("so bad", "killing me",
# "terrible"): the learned model learns from these that a bad morning is not a red flag (they
# are in its training data, as none), and the screen must raise nothing for them.
EVERYDAY_ACHES = [
    "I slept badly and my back hurts",
    "my back really hurts today",
    "my back hurts so bad this morning",
    "my back hurts so much when I get up",
    "ugh my back is so sore",
    "my back is killing me",
    "my lower back aches after a bad night",
    "I didn't sleep well and now my back aches",
    "my back's playing up again",
    "my back is really bad today",
    "my back hurts really badly after gardening",
    "my back is terrible this morning",
    "oh my back hurts",
    "my back hurts a lot today",
    "my whole back aches this morning",
    "my back feels awful when I wake up",
    "my back is in a bad way this morning",
    "my back's stiff and sore after a night on the sofa",
    "I'm sore all over after moving house",
    "my back's been aching all week",
    "my back hurts alexa",
    "my back hurts, what should I do",
]


@pytest.mark.parametrize("user_says", EVERYDAY_ACHES)
def test_an_ordinary_bad_morning_raises_nothing(user_says: str) -> None:
    assert _level(user_says) in (None, "absent"), (user_says, screen(user_says))


# The skill's own stretches, asked about: the knees come up to the chest in two of them.
@pytest.mark.parametrize("user_says", [
    "what's the point of hugging my knees in to my chest",
    "why do I pull my knees up to my chest",
    "how long do I hold my knee to my chest",
    "bringing one knee up towards my chest hurts my back a bit",
])
def test_a_stretch_that_brings_the_knees_to_the_chest_is_not_chest_pain(user_says: str) -> None:
    assert _level(user_says) not in ("emergency", "urgent"), (user_says, screen(user_says))


# A fifth batch of the project's own phrasings, for the rules added after round four's held-out
# batch was scored and released (tests/eval/sets/README.md) and the fifth training batch was read:
# words they showed were missing (pain that keeps the person from sleep, the worst pain of a
# lifetime, pain getting worse until they can hardly stand, not reaching the toilet in time,
# bowels that will not open, both knees giving way, a kick to the back, kilogrammes) and scopes
# they showed were too narrow (a fear of what might happen, an x ray that showed nothing broken,
# a foot sat on until it went numb, an illness that explains lost weight, being a Cancer, "the
# physio hasn't helped" read as someone else's symptoms). The curves of posture are the article's
# own subject (a tilted pelvis), not a change in the back's shape.
AFTER_ROUND_FOUR = [
    ("the pain keeps waking me up and I can't get comfortable again", "urgent"),
    ("my back pain stops me getting any sleep at night", "urgent"),
    ("my back pain is so strong it keeps me from sleeping", "urgent"),
    ("I can't get comfortable in bed at night because of the pain", "urgent"),
    ("my back gets worse and worse once I lie down at night", "urgent"),
    ("this is more pain than I've ever had in my life", "urgent"),
    ("it's the worst back pain I've ever felt", "urgent"),
    ("it keeps getting worse and nothing the doctor gives me helps", "urgent"),
    ("the pain is agony and the codeine won't touch it", "urgent"),
    ("I've lost nearly ten kilogrammes without trying and my back aches", "urgent"),
    ("I've got a burning ache going down my left arm and I'm sweating", "emergency"),
    ("it feels like something heavy is sitting on my chest", "emergency"),
    ("I didn't make it to the toilet in time and that never happens", "emergency"),
    ("I missed the last step and landed on my back", "urgent"),
    ("I got kicked in the back at football and it still hurts", "urgent"),
    ("the lump on my back is getting bigger", "urgent"),
    ("I fell off a ladder last week and my back still hurts", "urgent"),
    ("I'm scared that I'll fall on the ice this winter", None),
    ("my biggest fear is not being able to get to the toilet on my own", None),
    ("if I ever tripped on the stairs how would I know it was serious", None),
    ("I tripped on the stairs but the x ray showed no breaks", None),
    # ... but only the fall is over: the x ray was not about the legs, nor "back to normal" about
    # the legs when it is the back that is
    ("my legs are numb and I fell but nothing was broken", "emergency"),
    ("I slipped on the ice and now both legs feel weak, but the x ray showed no fracture",
     "emergency"),
    ("I can't feel my bum, I fell but the scan showed nothing broken", "emergency"),
    ("my legs are numb but my back is back to normal", "emergency"),
    ("I've got a fever but my back is fine again", "urgent"),
    ("I slipped in the shower but nothing was broken", None),
    ("I fell off my bike last month but there was no lasting damage", None),
    ("I sat on my foot too long and it went numb until I moved", None),
    ("my leg went numb for a few minutes after sitting cross legged", None),
    ("I lost a few pounds when I had the flu", None),
    ("being a cancer I always cry at films", None),
    ("cancer natives are very loyal", None),
    ("there's a lump on my dog's back and the vet isn't worried", None),
    ("my spaniel has a lump on her back", None),
    ("why does my back ache when I lie flat on a firm mattress", None),
    ("my lower back has a big curve when I look in the mirror", None),
    ("my bum sticks out and my back arches", None),
    ("I have a big arch in my lower back", None),
    ("my lower back curves in a lot when I stand", None),
    ("my posture has a deep curve at the base of my spine", None),
    ("my back is so much worse now that I can barely stand up", "urgent"),
    ("it's getting worse by the day and I can hardly get out of bed", "urgent"),
    ("my back is worse at night and the tablets don't help", "urgent"),
    ("I've been sleeping in my recliner because the pain wakes me when I lie flat", "urgent"),
    ("since my back went I haven't been able to open my bowels", "emergency"),
    ("I can't tell whether my bladder is full any more", "emergency"),
    ("since my back injury I can't finish in bed", "emergency"),
    ("since my back went sex feels completely different", "emergency"),
    ("both my knees gave way on the stairs this morning", "emergency"),
    ("I can't lift either foot properly", "emergency"),
    ("my legs don't work properly since this morning", "emergency"),
    ("nothing I take touches it and it keeps getting worse", "urgent"),
    ("people say I look slimmer but I haven't changed a thing and my back aches", "urgent"),
    ("the physio hasn't helped and the pain has got worse and worse", "urgent"),
    ("I had a fever last month but that's all behind me now", None),
    ("my leg gave way once last year but it hasn't happened since", None),
    ("I tripped on the kerb and landed badly, but the x ray showed nothing broken", None),
    ("I came off my bike but luckily the scan came back clear", None),
    ("I lost half a stone with a stomach bug", None),
    ("cancer natives make loyal friends", None),
    ("I fell madly in love with my new mattress", None),
    ("fifa fever has taken over our house", None),
    ("I'm sneezing a lot with the pollen but my back's fine", None),
    ("my terrier has a lump on his back", None),
]


@pytest.mark.parametrize(("user_says", "expected"), AFTER_ROUND_FOUR)
def test_the_words_round_four_showed_were_missing(user_says: str, expected: str | None) -> None:
    _reads_as(user_says, expected)


# A second read of round five's rules probed them with real signs beside the new scopes, and
# found triggers that reached too far: each of these raised nothing, or less than it should,
# until the trigger was narrowed (tests/eval/sets/README.md, round five).
SECOND_READ_OF_ROUND_FIVE = [
    ("why would the numbness between my legs come and go", "emergency"),
    ("how can the bladder just leak without me knowing", "emergency"),
    ("why would coughing make my back hurt this much", "urgent"),
    ("it feels as if I can't control my bladder any more", "emergency"),
    ("I didn't realise I had wet myself until I stood up", "emergency"),
    ("I can't feel pain between my legs any more", "emergency"),
    ("got up and my legs gave way, stood up too fast maybe, both legs are still weak",
     "emergency"),
    ("sitting in one position too long my legs go weak and I can't feel my bottom", "emergency"),
    ("the numbness goes quickly from my bum down both legs", "emergency"),
    ("I had numbness between my legs and the feeling hasn't come back", "emergency"),
    ("fever came back quickly after the tablets", "urgent"),
    ("I slipped on the stairs behind me yesterday and my lower back hurts", "urgent"),
    ("I fell off a ladder onto my back and the pain gives me no breaks", "urgent"),
    ("slipped in the shower and landed hard on my back, nothing broken I think", "urgent"),
    ("I work in a lab and fell off a stool onto my back", "urgent"),
    ("being a cancer patient my back pain worries me", "urgent"),
    # ... and older misses its probes showed (wrong before round five too)
    ("I don't know if my bladder is full any more", "emergency"),
    ("should I worry that I can't feel when I need the toilet", "emergency"),
    ("didn't notice I had leaked until I got up", "emergency"),
    ("I can't tell if I need the loo any more", "emergency"),
    ("the stretches aren't working properly, both legs are a bit tight", None),
    ("I've never felt anything like it, this stretch is amazing", None),
]


@pytest.mark.parametrize(("user_says", "expected"), SECOND_READ_OF_ROUND_FIVE)
def test_a_new_scope_does_not_reach_a_real_sign_beside_it(user_says: str,
                                                          expected: str | None) -> None:
    _reads_as(user_says, expected)


# A sixth batch of the project's own phrasings, for the rules added after round five's held-out
# batch was scored and released: words it showed were missing (legs that won't do what they are
# told, the part the person sits on, no feeling during sex, weight that vanished, settling only by
# getting up, a new hump) and other senses and scopes (walking for cancer, a novel about it, lumps
# and bumps, chair legs, overdoing it at the gym, a leak since the twins, IBS, the change, no
# fracture, numb for years, "I wouldn't say there's any"). Sitting hunched is
# posture, not a change of shape; going hunched is.
AFTER_ROUND_FIVE = [
    ("my legs just won't do what I tell them this morning", "emergency"),
    ("the part I sit on has gone numb since my back went", "emergency"),
    ("we tried to be intimate and I couldn't feel anything down there", "emergency"),
    ("two stone has just vanished and I haven't been dieting", "urgent"),
    ("my back pain wakes me and I can only settle by getting up and sitting in a chair", "urgent"),
    ("what's this new hump at the top of my back", "urgent"),
    ("I've gone all hunched this year", "urgent"),
    ("I sit hunched at my desk all day and my back aches", None),
    ("we're walking in the cancer relay on Sunday", None),
    ("my book club is reading a novel about cancer", None),
    ("she checks my dog for lumps and bumps every week", None),
    ("the chair legs gave way and I landed on the rug but only my pride was hurt", None),
    ("my legs feel heavy today because I overdid it at the gym", None),
    ("I leak a little when I sneeze since the twins were born", None),
    ("with my IBS flare I'm rushing to the toilet all morning", None),
    ("the night sweats are the change, not an illness", None),
    ("I slipped at work but the doctor found no fracture", None),
    ("my toes are numb but they've been like that for years", None),
    ("I wouldn't say there's any numbness in my legs, just an ache", None),
]


@pytest.mark.parametrize(("user_says", "expected"), AFTER_ROUND_FIVE)
def test_the_words_round_five_showed_were_missing(user_says: str, expected: str | None) -> None:
    _reads_as(user_says, expected)
