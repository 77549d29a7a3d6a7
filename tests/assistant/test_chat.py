import io

from assistant.commands.ask import chat_loop


def test_terminal_chat_keeps_the_conversation_and_starts_over(e5_service):
    stdin = io.StringIO("Who is Kir Giles?\nWho did he say that to?\n/new\n\n/quit\n")
    stdout = io.StringIO()
    assert chat_loop(e5_service, stdin, stdout) == 0
    out = stdout.getvalue()
    assert out.count("tanya> ") == 3
    assert "The National" in out
    assert "(new conversation)" in out
    assert "the question is empty" in out
