"""Sign-in, sign-out, throttling, CSRF, cookies and languages."""

from datetime import timedelta

from tests.webapp.pages import PASSWORD, csrf_token, login, post


def test_sign_in_and_out(hotline_app):
    client = hotline_app.test_client()
    assert client.get("/").status_code == 302  # to the sign-in page
    response = login(client, "h_mr")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http locally (HOTLINE_SECURE_COOKIES=auto)
    response = post(client, "/logout", token_from="/cases")
    assert response.status_code == 302
    assert client.get("/cases").status_code == 302


def test_session_cookie_is_secure_over_https(hotline_app):
    client = hotline_app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "h_mr", "password": PASSWORD, "csrf_token": token},
        base_url="https://hotline.example",
    )
    assert "Secure" in response.headers.get("Set-Cookie", "")


def test_wrong_password_and_unknown_user_look_the_same(hotline_app):
    client = hotline_app.test_client()
    wrong = login(client, "h_mr", "nope")
    unknown = login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.get_data(
        as_text=True
    ) or "用户名或密码错误" in wrong.get_data(as_text=True)


def test_repeated_failures_are_slowed_down(hotline_app, clock):
    client = hotline_app.test_client()
    assert [login(client, "h_mr", "nope").status_code for _ in range(3)] == [401, 401, 429]
    slowed = login(client, "h_mr", PASSWORD)  # even the right password waits, from here
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "2"
    clock.advance(timedelta(seconds=3))
    assert login(client, "h_mr", PASSWORD).status_code == 302
    client = hotline_app.test_client()
    assert [login(client, "h_mr", "nope").status_code for _ in range(3)] == [401, 401, 429]
    clock.advance(timedelta(seconds=3))
    assert login(client, "h_mr", "nope").status_code == 429  # a fourth failure: 4 s now
    clock.advance(timedelta(seconds=3))
    assert login(client, "h_mr", PASSWORD).status_code == 429  # the delay doubled
    clock.advance(timedelta(seconds=2))
    assert login(client, "h_mr", PASSWORD).status_code == 302


def test_posts_without_the_csrf_token_are_refused(hotline_app):
    client = hotline_app.test_client()
    response = client.post("/login", data={"username": "h_mr", "password": PASSWORD})
    assert response.status_code == 400


def test_an_open_redirect_after_sign_in_is_refused(hotline_app):
    client = hotline_app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "username": "h_mr",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/"


def test_language_follows_the_browser_then_the_switch(hotline_app):
    client = hotline_app.test_client()
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in english.get_data(as_text=True)
    post(client, "/language", {"lang": "en", "next": "/login"}, token_from="/login")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    post(client, "/language", {"lang": "zh", "next": "/login"}, token_from="/login")
    assert "登录" in client.get("/login").get_data(as_text=True)
