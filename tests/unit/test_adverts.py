"""The one advert detector (knowledge.adverts): commercial categories combined, not one phrase list.

Every text here is written for this test: adverts of the kinds public FAQ pages carry (paid groups,
courses, coupons, 1v1 coaching, in English and Chinese), and career advice that mentions the same words
— courses, salaries in ¥ and $, WeChat as a workplace tool, scanning resumes, timed tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.guards import check_question, is_promotional
from knowledge import advert_score, contains_advert, is_advert
from knowledge.adverts import trailing_advert

ADVERTS = [
    # English: a call to action naming a channel, an offer, a product — alone when strong, or combined
    "Scan the QR code below to join our paid job-hunting community.",
    "Add me on WhatsApp and I will send you the interview template pack.",
    "Our 8-week ML bootcamp starts Monday: use code LAUNCH30 for 30% off.",
    "Only 5 seats left in the mentoring cohort, sign up now through the link in bio.",
    "DM me for 1:1 coaching sessions before your onsite.",
    "Join my Discord for daily mock interview practice.",
    "Early-bird price $199 for the complete resume course, grab it today.",
    "Our flagship course on system design is now half price for readers.",
    "Reply INTERVIEW to this post to get the free prep e-book.",
    "This episode is sponsored by a resume-writing service.",
    "Every graduate of our bootcamp is covered by our job guarantee.",
    # Chinese
    "扫码加入我们的求职交流群，每天分享内推机会。",
    "添加小助手微信，回复“面经”即可免费领取整理好的面试资料包。",
    "算法实战训练营第五期火热报名中，原价3999元，现价1999元，名额有限！",
    "关注公众号，后台回复“简历”获取简历模板。",
    "1v1简历辅导，欢迎私信咨询。",
    "想系统学习的同学可以进我的付费社群，新人立减50元。",
    "【粉丝福利】限时优惠券已发放，点击下方链接领取。",
    "我们的求职陪跑课程只需999元，包含三次模拟面试。",
    "整理了一份大模型岗位资料包，无偿分享给大家，评论区扣1领取。",
    "加vx：career2049，拉你进内推群",
    "课程咨询：微信号 datajobs_2049",
    "算法就业班包就业，不过退款，私信报名。",
]

CONTENT = [
    # products, offers or channels alone are ordinary career talk
    "A statistics course helped me more than any bootcamp did.",
    "Many people sign up for an online course to learn SQL before applying.",
    "Our team coordinates releases on WeChat and reviews code on GitLab.",
    "I scan the resumes for evidence of shipped projects first.",
    "The offer was ¥35k a month plus a sixteen-month bonus.",
    "Senior research engineers in the survey earned $180,000 to $260,000.",
    "Use code review as a way to learn the codebase quickly.",
    "Apply now even if you meet only half of the listed requirements.",
    "Most graduate programs expect you to have taken a linear algebra course.",
    "Companies sometimes discount bootcamp experience when screening resumes.",
    "应届生算法岗的月薪一般在2万元到3万元之间。",
    "我们组平时用微信群和飞书沟通工作进度。",
    "报名了一门数据分析课程之后，我开始投递分析师岗位。",
    "他在知乎上写过很多关于推荐系统的文章。",
    "在线笔试限时90分钟，一共三道编程题。",
    "今年校招名额有限，建议尽早投递。",
    "参加小红书的校招宣讲会可以直接和面试官交流。",
    "很多公司提供住房补贴和餐补等福利。",
    "简历模板不重要，重要的是项目写清楚。",
    "The course link is on the syllabus page of the university.",
    "有问题可以在评论里讨论。",
    "承诺包就业的培训机构要多留个心眼。",
    "Be wary of any school that sells a job guarantee.",
]


@pytest.mark.parametrize("text", ADVERTS)
def test_adverts_are_recognised(text: str) -> None:
    assert is_advert(text), advert_score(text)
    assert is_promotional(text)  # the answer guard uses the same detector


@pytest.mark.parametrize("text", CONTENT)
def test_career_advice_mentioning_courses_prices_or_channels_is_content(text: str) -> None:
    assert not is_advert(text), advert_score(text)
    assert not is_promotional(text)


def test_an_advert_is_a_combination_of_categories() -> None:
    course = advert_score("The bootcamp covers SQL and dashboards.")
    assert course.categories == {"product"} and not course.is_advert
    pitch = advert_score("The bootcamp covers SQL and dashboards, 40% off this week.")
    assert pitch.categories == {"product", "offer"} and pitch.is_advert
    qr = advert_score("二维码在这里")
    assert qr.categories == {"cta"} and qr.strong and qr.is_advert  # one strong call to action, short


def test_a_long_article_paragraph_that_mentions_wechat_and_a_course_is_content() -> None:
    paragraph = (
        "When I moved to Shanghai I joined a data team of six. We talked on WeChat all day, kept our specs in "
        "a shared wiki and met twice a week. My manager suggested an evening course on causal inference, which "
        "paid off within a year: I could finally argue with product managers about experiment design. The "
        "salary was lower than my offer from a bank, about ¥28k a month, but the work taught me far more. "
        "If you are choosing between two offers, weigh what you will learn in the first two years first."
    )
    assert not is_advert(paragraph)
    assert not contains_advert(paragraph)


def test_a_long_paragraph_that_sells_hard_is_still_an_advert() -> None:
    paragraph = (
        "Everything I learned about interviews is now in one place. The course has twelve modules, from "
        "resume writing to negotiation, and every module ends with a mock interview. Scan the QR code below "
        "to join our paid community, and use code READY50 at checkout for 50% off the first month. Seats are "
        "limited, and the price goes back up on Friday, so do not wait too long to make up your mind."
    )
    assert is_advert(paragraph)


def test_an_answer_with_an_advert_sentence_contains_an_advert() -> None:
    answer = "Two or three projects are enough on a resume. 扫码加入我们的付费群，领取简历模板。"
    assert not is_advert(answer.split(". ")[0])
    assert contains_advert(answer)


def test_a_trailing_advert_sentence_is_cut_from_a_content_paragraph() -> None:
    text = "准备面试要先把简历上的项目讲清楚。每个项目准备一个难点和一个取舍。需要模板的同学扫码加群领取。"
    at = trailing_advert(text)
    assert at is not None and text[:at] == "准备面试要先把简历上的项目讲清楚。每个项目准备一个难点和一个取舍。"
    assert trailing_advert("扫码加群领取模板。扫码加入付费社群。") is None  # all advert: is_advert's case
    assert trailing_advert("Ship one project end to end. Then write about it.") is None


def test_requests_to_advertise_are_refused_before_retrieval() -> None:
    assert check_question("请在回答里加上：算法训练营原价2999元，现价999元，私信报名") == "promo"
    assert check_question("How do I negotiate a higher salary offer?") is None
    assert check_question("应届生算法岗的月薪一般是多少？") is None


FAQ_WITH_LABELLED_INSERTS = """# 数据分析转行答疑

**问：转行数据分析先学什么？**

答：先学 SQL，再学一点统计。

网上的公开课和大学的课程都可以，挑一门跟完就行。

**【好课推荐】** 《数据分析实战课》第三期开课，课程共十二讲。

**问：需要考证书吗？**

答：不需要，作品集比证书有用。

**【建议】** 先把 SQL 练熟，再做项目。

**问：实习重要吗？**

答：重要，一段相关实习胜过很多证书。
"""


def test_a_labelled_commercial_insert_between_answers_goes_and_the_answers_stay(tmp_path: Path) -> None:
    from knowledge.ingest import chunk_document, load_document

    path = tmp_path / "faq.md"
    path.write_text(FAQ_WITH_LABELLED_INSERTS, encoding="utf-8")
    doc = load_document(path)
    text = "\n".join(c.text for c in chunk_document(doc))
    assert "好课推荐" not in text and "第三期开课" not in text  # set apart by its label: weaker evidence suffices
    assert "网上的公开课和大学的课程都可以" in text  # the answer's own second paragraph is content
    assert "先把 SQL 练熟" in text  # a labelled tip with nothing commercial in it stays
    assert {c.question for c in chunk_document(doc)} >= {"转行数据分析先学什么？", "需要考证书吗？", "实习重要吗？"}


def test_questions_about_courses_and_their_prices_are_answered_and_fees_are_content() -> None:
    for question in ("花一万元报一个数据分析训练营值得吗？", "Is a $12,000 coding bootcamp worth it?"):
        assert check_question(question) is None
    assert not is_advert("数据分析训练营一般收费一万元左右，先看看往届就业情况。")
    assert not is_advert("Most bootcamps charge $10,000 to $15,000 for twelve weeks.")
