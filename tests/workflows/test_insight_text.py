"""The words insight counts: jieba's cut with the centre's dictionary and stop words."""

from workflows.insight.text import Segmenter


def test_words_drop_what_every_case_says_and_keep_the_topic():
    words = Segmenter().words("市民反映紫菜里有塑料，希望相关部门处理。")
    assert "紫菜" in words and "塑料" in words
    assert not {"市民", "反映", "希望", "相关", "部门", "处理", "，", "。", "里"} & set(words)


def test_the_centres_terms_are_kept_whole_and_its_stop_words_dropped():
    text = "塑料紫菜在白沙街道的超市有售"
    plain = Segmenter().words(text)
    assert "塑料紫菜" not in plain and "白沙街道" not in plain
    own = Segmenter({"塑料紫菜": "term", "白沙街道": "place", "超市": "stop"}).words(text)
    assert "塑料紫菜" in own and "白沙街道" in own and "超市" not in own
    # a term removed from the dictionary is cut as jieba would again
    assert Segmenter().words(text) == plain


def test_top_counts_a_word_once_per_text():
    top = Segmenter().top(["紫菜 紫菜 紫菜", "紫菜 塑料", "停水"], n=2)
    assert top == [("紫菜", 2), ("停水", 1)]
