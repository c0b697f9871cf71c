// The window's commands, declared once. `build.rs` and `lib.rs` include this file: the build
// step gives Tauri's manifest these names (and checks that the capability grants each, and
// nothing else), the app registers the functions of the same names in `commands.rs`, and a test
// checks that `ui/src/api.ts` calls these and no other. A command added here and missing
// anywhere else fails the build or that test.

/// Calls the macro `$then` with every command's name.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            start_problem,
            retry_start,
            keep_aside,
            quit,
            app_state,
            setup_standalone,
            enroll,
            login,
            lock,
            unlock,
            logout,
            sync_now,
            install_update,
            issue_ticket,
            call_next,
            recall,
            no_show,
            start_service,
            finish_service,
            transfer,
            queue_view,
            calling_board,
            open_calling_display,
            open_ticket_kiosk,
            close_ticket_kiosk,
            kiosk_menu,
            kiosk_ticket,
            kiosk_reprint,
            browse,
            search_services,
            service,
            check_form,
            find_citizens,
            register_citizen,
            create_request,
            pay,
            waive,
            refund,
            mark_document,
            list_requests,
            request,
            advance,
            resolve_conflict,
            feedback,
            dashboard,
            export_report,
            print_slip,
            set_rules,
        }
    };
}
