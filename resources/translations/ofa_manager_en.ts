<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>CheckpointTreeModel</name>
    <message numerus="yes">
        <source>{size} + %n unknown</source>
        <translation>
            <numerusform>{size} + %n unknown</numerusform>
            <numerusform>{size} + %n unknown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message numerus="yes">
        <source>Checking %n link(s)…</source>
        <translation>
            <numerusform>Checking %n link…</numerusform>
            <numerusform>Checking %n links…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>All %n link(s) answer</source>
        <translation>
            <numerusform>%n link answers</numerusform>
            <numerusform>All %n links answer</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{failed} of %n link(s) failed — {details}</source>
        <translation>
            <numerusform>{failed} of %n link failed — {details}</numerusform>
            <numerusform>{failed} of %n links failed — {details}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Confirm</name>
    <message numerus="yes">
        <source>{users} need(s) the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</source>
        <translation>
            <numerusform>{users} needs the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</numerusform>
            <numerusform>{users} need the backbone {names}, which is not downloaded or queued.

Queue {names} as well?</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Move %n file(s) ({size}) to the desktop trash? In the trash they take their space until it is emptied.</source>
        <translation>
            <numerusform>Move %n file ({size}) to the desktop trash? In the trash it takes its space until it is emptied.</numerusform>
            <numerusform>Move %n files ({size}) to the desktop trash? In the trash they take their space until it is emptied.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FolderChange</name>
    <message numerus="yes">
        <source>moved %n file(s)</source>
        <translation>
            <numerusform>moved %n file</numerusform>
            <numerusform>moved %n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>left %n file(s) in the old folder, their names being taken here or a link or folder being at one of their names: {names}</source>
        <translation>
            <numerusform>left %n file in the old folder, its name being taken here or a link or folder being at its name: {names}</numerusform>
            <numerusform>left %n files in the old folder, their names being taken here or a link or folder being at one of their names: {names}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message numerus="yes">
        <source>Verifying %n file(s)…</source>
        <translation>
            <numerusform>Verifying %n file…</numerusform>
            <numerusform>Verifying %n files…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied %n path(s)</source>
        <translation>
            <numerusform>Copied %n path</numerusform>
            <numerusform>Copied %n paths</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{done} — %n download(s) — {app}</source>
        <translation>
            <numerusform>{done} — %n download — {app}</numerusform>
            <numerusform>{done} — %n downloads — {app}</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>UsageModel</name>
    <message numerus="yes">
        <source>{name} + %n sharing the file</source>
        <translation>
            <numerusform>{name} + %n other sharing the file</numerusform>
            <numerusform>{name} + %n others sharing the file</numerusform>
        </translation>
    </message>
</context>
</TS>
