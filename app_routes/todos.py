"""`/todos`: TodoMVC on the server: add, toggle, edit (double-click), delete, filters, clear
completed, toggle all, and move up; rows are keyed ``<li>``s, so a reorder is MOVE ops."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from vango_actors import Element, Lazy, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

FILTERS = ("all", "active", "completed")
MAX_TITLE = 200


@attrs.frozen
class Todo:
    id: int
    title: str
    done: bool = False


class NewTodo(Component):
    """The new-todo box; re-keyed after each add, so the browser gets a fresh, empty one."""

    def mount(self, props: Mapping[str, Any]) -> None:
        if props.get("focus"):
            self.focus()

    def render(self) -> Element:
        return h.input(
            id="new-todo",
            name="title",
            placeholder="What needs to be done?",
            autocomplete="off",
            maxlength=MAX_TITLE,
        )


class EditTodo(Component):
    """The edit box of one row: Enter or leaving it saves, Escape cancels."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.focus()

    def key(self, event: Event) -> None:
        if event.payload.get("key") == "Escape":
            self.props["cancel"]()
        else:
            self.props["save"](self.props["id"], str(event.payload.get("value", "")))

    def blur(self, event: Event) -> None:
        self.props["save"](self.props["id"], str(event.payload.get("value", "")))

    def render(self) -> Element:
        return h.input(
            class_="edit",
            value=self.props["title"],
            maxlength=MAX_TITLE,
            on_keydown=h.on_keys(["Enter", "Escape"], self.key),
            on_blur=self.blur,
        )


@live_page(title="Todos")
class Todos(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.todos: list[Todo] = []
        self.next_id = 1
        self.filter = "all"
        self.editing: int | None = None
        self.added = 0

    # ---- handlers
    def add(self, event: Event) -> None:
        form = event.payload.get("form", {})
        title = str(form.get("title", "") if isinstance(form, dict) else "").strip()
        if not title:
            return
        self.todos = [*self.todos, Todo(self.next_id, title[:MAX_TITLE])]
        self.next_id += 1
        self.added += 1

    def _change(self, todo_id: int, fn: Callable[[Todo], Todo | None]) -> None:
        out: list[Todo] = []
        for todo in self.todos:
            changed = fn(todo) if todo.id == todo_id else todo
            if changed is not None:
                out.append(changed)
        self.todos = out

    def toggle(self, todo_id: int) -> None:
        self._change(todo_id, lambda t: attrs.evolve(t, done=not t.done))

    def destroy(self, todo_id: int) -> None:
        self._change(todo_id, lambda t: None)

    def edit(self, todo_id: int) -> None:
        self.editing = todo_id

    def save(self, todo_id: int, title: str) -> None:
        if self.editing != todo_id:
            return  # blur after Enter/Escape already ended the edit
        self.editing = None
        title = title.strip()[:MAX_TITLE]
        self._change(todo_id, lambda t: attrs.evolve(t, title=title) if title else None)

    def cancel(self) -> None:
        self.editing = None

    def move_up(self, todo_id: int) -> None:
        ids = [t.id for t in self.todos]
        i = ids.index(todo_id) if todo_id in ids else 0
        if i > 0:
            todos = list(self.todos)
            todos[i - 1], todos[i] = todos[i], todos[i - 1]
            self.todos = todos

    def toggle_all(self) -> None:
        done = not all(t.done for t in self.todos)
        self.todos = [attrs.evolve(t, done=done) for t in self.todos]

    def clear_completed(self) -> None:
        self.todos = [t for t in self.todos if not t.done]

    def show(self, name: str) -> None:
        self.filter = name

    # ---- rendering
    def visible(self) -> list[Todo]:
        if self.filter == "active":
            return [t for t in self.todos if not t.done]
        if self.filter == "completed":
            return [t for t in self.todos if t.done]
        return self.todos

    def render(self) -> Element:
        left = sum(1 for t in self.todos if not t.done)
        return h.main(
            h.h1("todos"),
            h.form(
                h(NewTodo, key=self.added, focus=self.added > 0),
                id="todo-form",
                on_submit=self.add,
            ),
            h.section(
                h.input(
                    type="checkbox",
                    id="toggle-all",
                    checked=bool(self.todos) and left == 0,
                    on_change=self.toggle_all,
                ),
                h.ul([self.item(t) for t in self.visible()], id="todo-list"),
                class_="main",
            ),
            h.footer(
                h.span(
                    h.strong(str(left)),
                    " item" if left == 1 else " items",
                    " left",
                    id="todo-count",
                ),
                h.span([self.filter_button(name) for name in FILTERS], class_="filters"),
                h.button(
                    "Clear completed",
                    id="clear-completed",
                    disabled=not any(t.done for t in self.todos),
                    on_click=self.clear_completed,
                ),
                class_="footer",
            ),
            h.p(h.a("all demos", href="/")),
        )

    def filter_button(self, name: str) -> Element:
        return h.button(
            name.capitalize(),
            id=f"filter-{name}",
            class_="selected" if self.filter == name else None,
            on_click=lambda: self.show(name),
        )

    def item(self, todo: Todo) -> Element | Lazy:
        """A row; memoised (``h.lazy``) unless it is being edited: a re-render calls
        ``row`` only for the todos that changed (see docs/guides/components.md)."""
        if self.editing == todo.id:
            return self.row(todo, editing=True)
        return h.lazy(self.row, todo, key=todo.id)

    def row(self, todo: Todo, editing: bool = False) -> Element:
        tid = todo.id
        classes = " ".join(
            c for c in ("completed" if todo.done else "", "editing" if editing else "") if c
        )
        children: list[Any] = [
            h.input(
                type="checkbox",
                class_="toggle",
                checked=todo.done,
                on_change=lambda: self.toggle(tid),
            ),
            h.label(todo.title, on_dblclick=lambda: self.edit(tid)),
            h.button(
                "\N{UPWARDS ARROW}",
                class_="up",
                title="move up",
                on_click=lambda: self.move_up(tid),
            ),
            h.button(
                "\N{MULTIPLICATION SIGN}",
                class_="destroy",
                title="delete",
                on_click=lambda: self.destroy(tid),
            ),
        ]
        if editing:
            children.append(
                h(EditTodo, key=tid, id=tid, title=todo.title, save=self.save, cancel=self.cancel)
            )
        return h.li(*children, key=tid, class_=classes or None, data_id=str(tid))
